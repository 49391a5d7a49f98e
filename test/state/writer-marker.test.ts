/**
 * The partition marker the writer keeps with every batch (docs/state-layout.md, "Marker"), the rebuild mark the
 * topology sets when it finds a partition's state lost, and the change feed trimmed by age as well as by length.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionKey } from '../../src/state/layout/index.ts';
import { createStateWriter, type StateWriter } from '../../src/state/writer/index.ts';
import { applyPartitionBatch } from '../../streams/apply.ts';
import type { PartitionRecord } from '../../streams/fold/partition-batch.ts';
import { generateClickstream } from '../streams/support/events.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

const HALF_LIFE = 3_600_000;
const tp = { topic: 'clickstream', partition: 1 };
const fold = { halfLifeMs: HALF_LIFE, recentClicks: 3 };
let redis: TestRedis;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.close();
});

function writer(prefix: string, changeFeedMaxAgeMs = 0): StateWriter {
  return createStateWriter({
    redis: redis.client,
    keyPrefix: prefix,
    groupId: 'g',
    changeFeedMaxLen: 100_000,
    changeFeedMaxAgeMs,
    recentClicks: 3,
    halfLifeMs: HALF_LIFE,
    requestTtlSeconds: 3600,
  });
}

function records(n: number, seed: number): PartitionRecord[] {
  const events = generateClickstream({ seed, users: 10, items: 8, requests: n });
  return events.slice(0, n).map((event, offset) => ({ offset, kind: 'event', event }));
}

/** Deletes every key of the prefix: what a redis-server restarted without its data shows. */
async function loseState(prefix: string): Promise<void> {
  const keys = await redis.client.keys(`${prefix}*`);
  if (keys.length > 0) await redis.client.del(...keys);
}

describe('partition marker', () => {
  it('marks a partition folded from nothing behind the log end as rebuilding until it reaches that end', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const recs = records(100, 21);
    s.noteLogEnd(tp, recs.length - 1);
    await applyPartitionBatch(s, tp, 'clickstream', recs.slice(0, 40), -1, fold);
    const during = await s.readPartitionState(tp);
    expect(during.offset).toBe(39);
    expect(during.epoch).not.toBeNull();
    expect(during.rebuildUntil).toBe(recs.length - 1);

    await applyPartitionBatch(s, tp, 'clickstream', recs.slice(40), 39, fold);
    const after = await s.readPartitionState(tp);
    expect(after).toEqual({ offset: recs.length - 1, epoch: during.epoch, rebuildUntil: null });
  });

  it('gives a partition whose log it has caught up with an epoch and no rebuild', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const recs = records(30, 22);
    s.noteLogEnd(tp, recs.length - 1);
    await applyPartitionBatch(s, tp, 'clickstream', recs, -1, fold);
    const state = await s.readPartitionState(tp);
    expect(state.epoch).toBeGreaterThan(0);
    expect(state.rebuildUntil).toBeNull();
  });

  it('after a loss, marks the partition rebuilding before any record is folded again, with a new epoch', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const recs = records(60, 23);
    s.noteLogEnd(tp, recs.length - 1);
    await applyPartitionBatch(s, tp, 'clickstream', recs, -1, fold);
    const before = await s.readPartitionState(tp);
    await loseState(prefix);
    expect(await s.readPartitionState(tp)).toEqual({ offset: -1, epoch: null, rebuildUntil: null });

    await new Promise((r) => setTimeout(r, 2)); // a later millisecond: the new epoch differs
    expect(await s.markRebuild(tp, recs.length - 1)).toBe(-1);
    const marked = await s.readPartitionState(tp);
    expect(marked.offset).toBe(-1);
    expect(marked.rebuildUntil).toBe(recs.length - 1);
    expect(marked.epoch).not.toBe(before.epoch);

    // Folding the log again keeps that epoch and ends the rebuild at the offset the state held before.
    await applyPartitionBatch(s, tp, 'clickstream', recs.slice(0, 30), -1, fold);
    expect((await s.readPartitionState(tp)).rebuildUntil).toBe(recs.length - 1);
    await applyPartitionBatch(s, tp, 'clickstream', recs.slice(30), 29, fold);
    expect(await s.readPartitionState(tp)).toEqual({
      offset: recs.length - 1,
      epoch: marked.epoch,
      rebuildUntil: null,
    });
  });

  it('does not mark a partition whose stored offset already reaches the one asked for', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const recs = records(20, 24);
    await applyPartitionBatch(s, tp, 'clickstream', recs, -1, fold);
    expect(await s.markRebuild(tp, 10)).toBe(recs.length - 1);
    expect((await s.readPartitionState(tp)).rebuildUntil).toBeNull();
  });
});

describe('change feed', () => {
  it('trims entries older than the maximum age, not only past the maximum length', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix, 1000);
    const recs = records(400, 25);
    const feed = partitionKey(prefix, tp, 'feed');
    // One entry per batch; Redis trims whole nodes of 100 entries, so write a few nodes' worth.
    for (let i = 0; i < 300; i++) await applyPartitionBatch(s, tp, 'clickstream', [recs[i]], i - 1, fold);
    await new Promise((r) => setTimeout(r, 1100));
    await applyPartitionBatch(s, tp, 'clickstream', [recs[300]], 299, fold);
    const left = await redis.client.xlen(feed);
    expect(left).toBeLessThan(100);
    expect(left).toBeGreaterThanOrEqual(1);
    const newest = await redis.client.xrevrange(feed, '+', '-', 'COUNT', 1);
    expect(newest[0][1][1]).toBe('300');
  });
});
