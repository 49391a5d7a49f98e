/**
 * Retention by age must not depend on whether the broker restarted: a recovered batch keeps the time this broker
 * appended it (from its index entry), not its largest record timestamp.
 */
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Partition } from '../../src/broker/log/partition.ts';
import { readBatchHeader } from '../../src/broker/protocol/record-batch.ts';
import { DiskPartitionStore } from '../../src/broker/storage/disk-partition-store.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { buildBatch } from './support/batches.ts';

const HOUR = 3_600_000;
const NOW = 1_700_000_000_000;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function open(dir: string, segmentBytes = 1 << 20): Partition {
  const p = new Partition('t', 0);
  const store = new DiskPartitionStore(dir, segmentBytes, false, silentLogger());
  store.recover(p);
  p.store = store;
  return p;
}

/** Appends at `now` a batch whose records were made at `timestamp`. */
function append(p: Partition, value: string, timestamp: number, now: number): void {
  const b = buildBatch({ records: [{ value }], baseTimestamp: timestamp });
  p.appendBatch(b, readBatchHeader(b), now);
}

describe('retention across a broker restart', () => {
  it.each([
    ['in the last segment (scanned on recovery)', 1 << 20],
    ['in closed segments (read from their index)', 1],
  ])(
    'keeps old-timestamped batches appended recently %s, as the same broker without a restart does',
    (_, size) => {
      const dir = mkdtempSync(join(tmpdir(), 'retention-'));
      dirs.push(dir);
      const policy = { retentionBytes: -1, retentionMs: 24 * HOUR };
      // Records made two days ago (a replay, a backfill) appended now, then a recent one.
      const build = () => {
        const p = open(dir, size);
        for (let i = 0; i < 5; i++) append(p, `old-${i}`, NOW - 48 * HOUR, NOW);
        append(p, 'new', NOW, NOW);
        return p;
      };
      const running = build();
      running.applyRetention(policy, NOW + HOUR);
      expect(running.logStartOffset).toBe(0);
      running.close();

      const restarted = open(dir, size);
      expect(restarted.entries.map((e) => e.appendTime)).toEqual(Array(6).fill(NOW));
      restarted.applyRetention(policy, NOW + HOUR);
      expect(restarted.logStartOffset).toBe(0);
      // A day after they were appended both brokers delete them.
      restarted.applyRetention(policy, NOW + 25 * HOUR);
      expect(restarted.logStartOffset).toBe(5);
      restarted.close();
    },
  );
});

describe("the last segment's index at a restart", () => {
  it('is left alone when whole, and replaced whole (written aside, then renamed) when the log had a torn tail', () => {
    const dir = mkdtempSync(join(tmpdir(), 'index-restart-'));
    dirs.push(dir);
    const running = open(dir);
    for (let i = 0; i < 3; i++) append(running, `v-${i}`, NOW, NOW);
    running.close();
    const base = readdirSync(dir)
      .find((f) => f.endsWith('.log'))!
      .slice(0, 20);
    const indexPath = join(dir, `${base}.index`);
    const logPath = join(dir, `${base}.log`);
    const whole = readFileSync(indexPath);
    // An old modification time: a rewrite of the index at the restart would change it.
    const old = new Date(NOW - 48 * HOUR);
    utimesSync(indexPath, old, old);

    const again = open(dir);
    expect(again.entries.map((e) => e.appendTime)).toEqual([NOW, NOW, NOW]);
    again.close();
    expect(statSync(indexPath).mtimeMs).toBe(old.getTime());
    expect(readFileSync(indexPath).equals(whole)).toBe(true);

    // A torn tail: the log is cut back to its whole batches and the index written again, still whole.
    appendFileSync(logPath, Buffer.from([0, 0, 0, 0, 0, 0, 0, 9, 0, 0]));
    writeFileSync(`${indexPath}.tmp`, 'left by a start that stopped before its rename');
    const torn = open(dir);
    expect(torn.entries.map((e) => e.appendTime)).toEqual([NOW, NOW, NOW]);
    append(torn, 'v-3', NOW + HOUR, NOW + HOUR);
    torn.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const reopened = open(dir);
    // The batch appended after the replacement went to the new index file, not the replaced one.
    expect(reopened.entries.map((e) => e.appendTime)).toEqual([NOW, NOW, NOW, NOW + HOUR]);
    expect(readFileSync(indexPath).subarray(0, whole.length).equals(whole)).toBe(true);
    reopened.close();
  });
});
