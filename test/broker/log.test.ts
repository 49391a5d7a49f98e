/**
 * The log module on its own: retention by size and by age (in memory and on disk, where whole segments are
 * deleted and the log start offset survives a restart), reads past the cache from segment files, memory
 * bounded by the active segment on disk, and ListOffsets by timestamp.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COLD_RUN_ENTRIES } from '../../src/broker/log/closed-segments.ts';
import { Partition } from '../../src/broker/log/partition.ts';
import { readBatchHeader } from '../../src/broker/protocol/record-batch.ts';
import { DiskPartitionStore } from '../../src/broker/storage/disk-partition-store.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { buildBatch } from './support/batches.ts';

const T0 = 1_700_000_000_000;

/** A partition on disk in `dir` (recovering what is there), with the given segment and cache sizes. */
function openOnDisk(dir: string, segmentBytes: number, cacheBytes: number, fsync = false): Partition {
  const p = new Partition('t', 0);
  const store = new DiskPartitionStore(dir, segmentBytes, fsync, silentLogger());
  store.recover(p);
  p.store = store;
  p.cacheBytesLimit = cacheBytes;
  return p;
}

/** Base offsets of batches (their first INT64; these fit in its low half). */
const baseOffsets = (batches: Buffer[]) => batches.map((b) => b.readInt32BE(4));

function append(p: Partition, value: string, timestamp = T0, now = T0): number {
  const b = buildBatch({ records: [{ value }], baseTimestamp: timestamp });
  return p.appendBatch(b, readBatchHeader(b), now).baseOffset;
}

describe('log module', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('retention by size and by age deletes whole batches from the front', () => {
    const p = new Partition('t', 0);
    for (let i = 0; i < 10; i++) append(p, `v${i}`, T0 + i * 1000, T0 + i * 1000);
    const batchSize = p.sizeBytes / 10;
    p.applyRetention({ retentionBytes: batchSize * 4, retentionMs: -1 }, T0 + 10_000);
    expect(p.logStartOffset).toBe(6);
    expect(p.read(0, 1e9, p.highWatermark, true).batches).toHaveLength(4);
    p.applyRetention({ retentionBytes: -1, retentionMs: 2500 }, T0 + 10_000);
    expect(p.logStartOffset).toBe(8);
    // The last batch is never deleted.
    p.applyRetention({ retentionBytes: 0, retentionMs: 0 }, T0 + 1e9);
    expect(p.logStartOffset).toBe(9);
    expect(p.highWatermark).toBe(10);
  });

  it('ListOffsets by timestamp finds the first record at or after it', () => {
    const p = new Partition('t', 0);
    for (let i = 0; i < 5; i++) append(p, `v${i}`, T0 + i * 100);
    expect(p.offsetForTimestamp(T0 + 150).offset).toBe(2);
    expect(p.offsetForTimestamp(T0).offset).toBe(0);
    expect(p.offsetForTimestamp(T0 + 10_000).offset).toBe(-1);
  });

  it.each([
    ['never', false],
    ['always', true],
  ])(
    'on disk (fsync %s): reads beyond the memory cache come from segment files; retention deletes segments',
    (_name, fsync) => {
      const dir = mkdtempSync(join(tmpdir(), 'log-'));
      dirs.push(dir);
      const open = () => openOnDisk(dir, 300, 200, fsync);
      let p = open();
      for (let i = 0; i < 20; i++) append(p, `value-${i}`, T0 + i, T0 + i);
      const segments = () => readdirSync(dir).filter((f) => f.endsWith('.log')).length;
      expect(segments()).toBeGreaterThan(3);
      expect(p.entries[0]!.buf).toBeNull(); // evicted from memory
      const all = p.read(0, 1e9, p.highWatermark, true).batches;
      expect(all).toHaveLength(20);
      expect(all[3]!.readInt32BE(4)).toBe(3);

      const before = segments();
      p.applyRetention({ retentionBytes: p.sizeBytes / 2, retentionMs: -1 }, T0 + 100);
      const start = p.logStartOffset;
      expect(start).toBeGreaterThan(5);
      expect(segments()).toBeLessThan(before);
      p.close();

      p = open();
      expect(p.logStartOffset).toBe(start);
      expect(p.highWatermark).toBe(20);
      expect(p.read(start, 1e9, 20, true).batches).toHaveLength(20 - start);
      p.close();
    },
  );

  it('on disk, holds in memory the entries of the cached batches and a few more, however large a segment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-'));
    dirs.push(dir);
    // One segment that never fills; a cache of 1000 bytes (about 13 batches).
    const open = () => openOnDisk(dir, 64 * 1024 * 1024, 1000);
    const N = 3 * COLD_RUN_ENTRIES + 100;
    let p = open();
    for (let i = 0; i < N; i++) append(p, String(i).padStart(5, '0'), T0 + i, T0 + i);
    const batchSize = p.sizeBytes / N;
    expect(p.entriesInMemory).toBeLessThan(COLD_RUN_ENTRIES + Math.ceil(1000 / batchSize) + 1);
    expect(baseOffsets(p.read(0, 1e9, N, true).batches)).toEqual([...Array(N).keys()]);
    expect(baseOffsets(p.read(5000, batchSize * 2, N, false).batches)).toEqual([5000, 5001]);
    expect(p.offsetForTimestamp(T0 + 9000)).toEqual({ offset: 9000, timestamp: T0 + 9000 });
    p.applyRetention({ retentionBytes: -1, retentionMs: 1000 }, T0 + 6000);
    expect(p.logStartOffset).toBe(5000);
    expect(p.sizeBytes).toBe(batchSize * (N - 5000));
    p.close();
    p = open();
    expect(p.logStartOffset).toBe(5000);
    append(p, 'after', T0 + N, T0 + N);
    expect(p.entriesInMemory).toBeLessThan(COLD_RUN_ENTRIES + Math.ceil(1000 / batchSize) + 1);
    expect(p.read(5000, 1e9, N + 1, true).batches).toHaveLength(N + 1 - 5000);
    p.close();
  });

  it('on disk, holds in memory the entries of the active segment and the cache only, however long the log', () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-'));
    dirs.push(dir);
    const open = () => openOnDisk(dir, 2000, 1000);
    const N = 3000;
    let p = open();
    for (let i = 0; i < N; i++) append(p, String(i).padStart(5, '0'), T0 + i, T0 + i);
    const batchSize = p.sizeBytes / N;
    // The active segment (2000 bytes) and the cache (1000 bytes) hold at most ~40 of these batches.
    expect(p.entriesInMemory).toBeLessThan(Math.ceil(3000 / batchSize) + 2);
    expect(baseOffsets(p.read(0, 1e9, N, true).batches)).toEqual([...Array(N).keys()]);
    expect(baseOffsets(p.read(1234, batchSize * 3, N, false).batches)).toEqual([1234, 1235, 1236]);
    expect(p.offsetForTimestamp(T0 + 1500)).toEqual({ offset: 1500, timestamp: T0 + 1500 });

    // Retention still deletes batch by batch, in closed segments as in the active one.
    p.applyRetention({ retentionBytes: -1, retentionMs: 1000 }, T0 + 2500);
    expect(p.logStartOffset).toBe(1500);
    expect(p.sizeBytes).toBe(batchSize * 1500);
    expect(baseOffsets(p.read(1500, batchSize, N, false).batches)).toEqual([1500]);
    p.applyRetention({ retentionBytes: batchSize * 10, retentionMs: -1 }, T0 + 2500);
    expect(p.logStartOffset).toBe(N - 10);
    expect(baseOffsets(p.read(0, 1e9, N, true).batches)).toEqual(
      [...Array(10).keys()].map((i) => N - 10 + i),
    );
    p.close();

    // A restart reads the index of every segment, then lets the closed ones go again.
    p = open();
    expect(p.logStartOffset).toBe(N - 10);
    expect(p.highWatermark).toBe(N);
    for (let i = 0; i < 100; i++) append(p, String(N + i).padStart(5, '0'), T0 + N + i, T0 + N + i);
    expect(p.entriesInMemory).toBeLessThan(Math.ceil(3000 / batchSize) + 2);
    expect(p.read(N - 10, 1e9, N + 100, true).batches).toHaveLength(110);
    p.close();
  });
});
