/**
 * The log module on its own: retention by size and by age (in memory and on disk, where whole segments are
 * deleted and the log start offset survives a restart), reads past the cache from segment files, and
 * ListOffsets by timestamp.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Partition } from '../../src/broker/log/partition.ts';
import { readBatchHeader } from '../../src/broker/protocol/record-batch.ts';
import { DiskPartitionStore } from '../../src/broker/storage/disk-partition-store.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { buildBatch } from './support/batches.ts';

const T0 = 1_700_000_000_000;

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
      const open = () => {
        const p = new Partition('t', 0);
        const store = new DiskPartitionStore(dir, 300, fsync, silentLogger());
        store.recover(p);
        p.store = store;
        p.cacheBytesLimit = 200;
        return p;
      };
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
});
