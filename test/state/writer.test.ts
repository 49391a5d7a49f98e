import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.ts';
import { FEED_ENTRY_FIELDS } from '../../src/state/layout/feed-entry.ts';
import {
  legacyRequestKey,
  partitionKey,
  recentKey,
  requestKey,
  userKey,
} from '../../src/state/layout/index.ts';
import { startLiveStateReader } from '../../src/state/live-reader/index.ts';
import { createStateWriter, type StateWriter } from '../../src/state/writer/index.ts';
import { applyPartitionBatch } from '../../streams/apply.ts';
import type { PartitionRecord } from '../../streams/fold/partition-batch.ts';
import { examinationTable } from '../../streams/fold/position-bias.ts';
import type { ClickstreamEvent, ItemChange } from '../../streams/schemas/index.ts';
import { eventually } from '../gateway/support.ts';
import { compareWithReference } from '../streams/support/compare-state.ts';
import { generateClickstream, seeded } from '../streams/support/events.ts';
import { emptyReference, referenceApply } from '../streams/support/reference-fold.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { decodeCompact } from './support/compact-entry.ts';

const HALF_LIFE = 3_600_000;
const tp = { topic: 'clickstream', partition: 3 };
let redis: TestRedis;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.close();
});

function writer(
  prefix: string,
  examination?: readonly number[],
  userActivityTtlSeconds?: number,
): StateWriter {
  return createStateWriter({
    redis: redis.client,
    keyPrefix: prefix,
    groupId: 'g',
    changeFeedMaxLen: 1000,
    recentClicks: 3,
    halfLifeMs: HALF_LIFE,
    requestTtlSeconds: 3600,
    examination,
    ...(userActivityTtlSeconds === undefined ? {} : { userActivityTtlSeconds }),
  });
}

const fold = { halfLifeMs: HALF_LIFE, recentClicks: 3 };

function records(n: number, seed: number): PartitionRecord[] {
  const events = generateClickstream({ seed, users: 20, items: 15, requests: n });
  return events.map((event, offset) => ({ offset, kind: 'event', event }));
}

function reference(recs: readonly PartitionRecord[]) {
  const ref = emptyReference();
  const shown = new Map<string, string>();
  for (const r of recs) if (r.kind === 'event') referenceApply(ref, shown, r.event, 3);
  return ref;
}

describe('state writer on Redis', () => {
  it('holds exactly the reference counts after batches of any size', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    await s.init();
    const recs = records(600, 1);
    const rand = seeded(7);
    let applied = -1;
    for (let i = 0; i < recs.length; ) {
      const n = 1 + Math.floor(rand() * 80);
      const result = await applyPartitionBatch(s, tp, 'clickstream', recs.slice(i, i + n), applied, fold);
      expect(result.kind).toBe('done');
      applied = result.applied;
      i += n;
    }
    expect(applied).toBe(recs.length - 1);
    expect(
      await compareWithReference(redis.client, prefix, tp, reference(recs), { halfLifeMs: HALF_LIFE }),
    ).toEqual([]);
    expect(await s.readOffset(tp)).toBe(recs.length - 1);
  });

  it('notices a state that misses one event (the comparison is not vacuous)', async () => {
    const prefix = redis.prefix();
    const recs = records(60, 8);
    await applyPartitionBatch(writer(prefix), tp, 'clickstream', recs.slice(1), -1, fold);
    const diff = await compareWithReference(redis.client, prefix, tp, reference(recs), {
      halfLifeMs: HALF_LIFE,
    });
    expect(diff.length).toBeGreaterThan(0);
  });

  it("keeps a user's activity for userActivityTtlSeconds after their last event, or for good with 0", async () => {
    const recs = records(200, 3);
    const clicker = recs.find((r) => r.kind === 'event' && r.event.type === 'Click');
    expect(clicker).toBeDefined();
    const userId = (clicker as { event: { event: { userId: string } } }).event.event.userId;
    const ttls = async (userActivityTtlSeconds: number | undefined) => {
      const prefix = redis.prefix();
      const s = writer(prefix, undefined, userActivityTtlSeconds);
      await s.init();
      const result = await applyPartitionBatch(s, tp, 'clickstream', recs, -1, fold);
      expect(result.kind).toBe('done');
      return Promise.all([
        redis.client.ttl(userKey(prefix, tp, userId)),
        redis.client.ttl(recentKey(prefix, tp, userId)),
      ]);
    };
    for (const ttl of await ttls(600)) {
      expect(ttl).toBeGreaterThan(590);
      expect(ttl).toBeLessThanOrEqual(600);
    }
    // -1: the key exists and does not expire.
    expect(await ttls(0)).toEqual([-1, -1]);
    expect(await ttls(undefined)).toEqual([-1, -1]);
  });

  it('skips records already applied after a crash', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const recs = records(100, 2);
    const first = await applyPartitionBatch(s, tp, 'clickstream', recs, -1, fold);
    expect(first).toEqual({ kind: 'done', applied: recs.length - 1, records: recs.length });
    // The consumer restarted from an older position and redelivers everything: nothing is counted twice.
    const again = await applyPartitionBatch(s, tp, 'clickstream', recs, -1, fold);
    expect(again).toEqual({ kind: 'done', applied: recs.length - 1, records: 0 });
    expect(
      await compareWithReference(redis.client, prefix, tp, reference(recs), { halfLifeMs: HALF_LIFE }),
    ).toEqual([]);
  });

  it('applies only the records after the stored offset when another consumer got there first', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const recs = records(200, 3);
    const half = Math.floor(recs.length / 2);
    await applyPartitionBatch(s, tp, 'clickstream', recs.slice(0, half), -1, fold);
    const zombie = await applyPartitionBatch(s, tp, 'clickstream', recs, -1, fold);
    expect(zombie).toEqual({ kind: 'done', applied: recs.length - 1, records: recs.length - half });
    expect(
      await compareWithReference(redis.client, prefix, tp, reference(recs), { halfLifeMs: HALF_LIFE }),
    ).toEqual([]);
  });

  it('asks to rewind when Redis holds an earlier offset than the consumer applied', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const recs = records(50, 4);
    await applyPartitionBatch(s, tp, 'clickstream', recs.slice(0, 10), -1, fold);
    const result = await applyPartitionBatch(s, tp, 'clickstream', recs.slice(30), 29, fold);
    expect(result).toEqual({ kind: 'rewind', applied: 9 });
  });

  it('reloads its scripts after SCRIPT FLUSH', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    await s.init();
    const recs = records(40, 5);
    await applyPartitionBatch(s, tp, 'clickstream', recs.slice(0, 20), -1, fold);
    await redis.client.script('FLUSH');
    await applyPartitionBatch(s, tp, 'clickstream', recs.slice(20), 19, fold);
    expect(
      await compareWithReference(redis.client, prefix, tp, reference(recs), { halfLifeMs: HALF_LIFE }),
    ).toEqual([]);
  });

  it('appends the absolute values a batch changed to the change feed', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const recs = records(30, 6);
    await applyPartitionBatch(s, tp, 'clickstream', recs.slice(0, 15), -1, fold);
    await applyPartitionBatch(s, tp, 'clickstream', recs.slice(15), 14, fold);
    const entries = await redis.client.xrange(partitionKey(prefix, tp, 'feed'), '-', '+');
    expect(entries.map(([, fields]) => fields[1])).toEqual(['14', String(recs.length - 1)]);
    expect(entries[1][1][2]).toBe('c');
    const d = decodeCompact(entries[1][1][3]);
    const posterior = await redis.client.hgetall(partitionKey(prefix, tp, 'posterior'));
    for (const [arm, [imp, clk]] of Object.entries(d.posterior as Record<string, [number, number]>)) {
      expect([imp, clk]).toEqual([
        Number(posterior[`imp|${arm}`] ?? 0),
        Number(posterior[`clk|${arm}`] ?? 0),
      ]);
    }
    const item = await redis.client.hgetall(partitionKey(prefix, tp, 'item'));
    for (const [itemId, fields] of Object.entries(d.item as Record<string, Record<string, number>>)) {
      // Only what the batch changed; `seen` always (every event moves it or confirms it).
      expect(fields.seen).toBe(Number(item[`seen|${itemId}`]));
      for (const [f, v] of Object.entries(fields)) {
        const stored = Number(item[`${f}|${itemId}`]);
        expect(Math.abs(v - stored)).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(stored)));
      }
    }
    expect(Object.keys(d.user).length).toBeGreaterThan(0);
  });

  it("carries the Kafka timestamps of a batch's clicks in its feed entry, and the live reader times each to the cache", async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const sent = Date.now() - 5000;
    const recs = records(40, 9).map((r) => ({ ...r, timestamp: sent + r.offset }));
    const clickTimes = recs.flatMap((r) =>
      r.kind === 'event' && r.event.type === 'Click' ? [r.timestamp] : [],
    );
    expect(clickTimes.length).toBeGreaterThan(0);
    const delays: number[] = [];
    const reader = await startLiveStateReader({
      redis: redis.client,
      keyPrefix: prefix,
      topics: { clickstream: tp.topic, cdcItems: 'cdc.items', cdcUsers: 'cdc.users' },
      partitions: { clickstream: tp.partition + 1, cdcItems: 1, cdcUsers: 1 },
      halfLifeSeconds: HALF_LIFE / 1000,
      pollMs: 10,
      onClickApplied: (ms) => delays.push(ms),
      logger: silentLogger(),
    });
    try {
      const applying = Date.now();
      await applyPartitionBatch(s, tp, 'clickstream', recs, -1, fold);
      const [[, fields]] = await redis.client.xrange(partitionKey(prefix, tp, 'feed'), '-', '+');
      const t = fields[fields.indexOf(FEED_ENTRY_FIELDS.clickTimes) + 1];
      expect(t.split(' ').map(Number)).toEqual(clickTimes.slice(0, 64));
      await eventually(() => (delays.length === Math.min(64, clickTimes.length) ? true : undefined));
      // Each delay ends when the cache applied the entry: after the batch was written, never before.
      for (const [k, ms] of delays.entries()) expect(clickTimes[k] + ms).toBeGreaterThanOrEqual(applying);
    } finally {
      await reader.close();
    }
  });

  it('weighs impressions by slot examination and completes the examination of a clicked impression', async () => {
    const prefix = redis.prefix();
    const table = examinationTable({ enabled: true, eta: 1, examination: [] });
    const s = writer(prefix, table);
    const base = {
      requestId: 'r1',
      userId: 'u1',
      policy: 'p',
      modelVersion: 'm',
      propensity: 1,
      score: null,
    };
    const imp = (itemId: string, slot: number) => ({
      type: 'Impression' as const,
      event: {
        ...base,
        eventId: `e${slot}`,
        itemId,
        slot,
        experiment: null,
        variant: null,
        segment: 'tv',
        context: null,
        timestamp: 1,
      },
    });
    const click = {
      type: 'Click' as const,
      event: {
        eventId: 'c',
        requestId: 'r1',
        userId: 'u1',
        itemId: 'b',
        slot: null,
        segment: null,
        timestamp: 2,
      },
    };
    const recs: PartitionRecord[] = [imp('a', 0), imp('b', 3)].map((event, offset) => ({
      offset,
      kind: 'event',
      event,
    }));
    await applyPartitionBatch(s, tp, 'clickstream', recs, -1, { ...fold, examination: table });
    // The click comes in a later batch: the script finds its impression's slot and segment in req:r1.
    await applyPartitionBatch(s, tp, 'clickstream', [{ offset: 2, kind: 'event', event: click }], 1, {
      ...fold,
      examination: table,
    });
    const posterior = await redis.client.hgetall(partitionKey(prefix, tp, 'posterior'));
    expect(Number(posterior['imp|a|*'])).toBe(1);
    expect(Number(posterior['imp|b|*'])).toBeCloseTo(1, 12);
    expect(Number(posterior['imp|b|tv'])).toBeCloseTo(1, 12);
    expect(posterior['clk|b|tv']).toBe('1');
    expect(await redis.client.hget(requestKey(prefix, tp, 'u1', 'r1'), 'b')).toBe('3|tv');
    expect(await redis.client.ttl(requestKey(prefix, tp, 'u1', 'r1'))).toBeGreaterThan(0);
  });

  it("keeps a request's record per user when two users use its id, and reads a record of the layout before", async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const shown = (userId: string, requestId: string, segment: string): ClickstreamEvent => ({
      type: 'Impression',
      event: {
        eventId: `imp-${userId}-${requestId}`,
        requestId,
        userId,
        itemId: 'a',
        slot: 0,
        policy: 'p',
        modelVersion: 'm',
        propensity: 1,
        score: null,
        experiment: null,
        variant: null,
        segment,
        context: null,
        timestamp: 1,
      },
    });
    const click = (userId: string, requestId: string): ClickstreamEvent => ({
      type: 'Click',
      event: {
        eventId: `clk-${userId}-${requestId}`,
        requestId,
        userId,
        itemId: 'a',
        slot: null,
        segment: null,
        timestamp: 2,
      },
    });
    const events = (list: ClickstreamEvent[], from: number): PartitionRecord[] =>
      list.map((event, i) => ({ offset: from + i, kind: 'event', event }));
    // Two users of one partition deal a carousel under one request id; the second does not take over the first's.
    await applyPartitionBatch(
      s,
      tp,
      'clickstream',
      events([shown('u1', 'shared', 'tv'), shown('u2', 'shared', 'web')], 0),
      -1,
      fold,
    );
    expect(await redis.client.hgetall(requestKey(prefix, tp, 'u1', 'shared'))).toEqual({ a: '0|tv' });
    expect(await redis.client.hgetall(requestKey(prefix, tp, 'u2', 'shared'))).toEqual({ a: '0|web' });
    // A record written before records were keyed by user, still in its attribution window.
    await redis.client.hset(legacyRequestKey(prefix, tp, 'old'), 'a', '0|tv', '|user', 'u1');
    await applyPartitionBatch(
      s,
      tp,
      'clickstream',
      events([click('u1', 'shared'), click('u1', 'old'), click('u3', 'old')], 2),
      1,
      fold,
    );
    const posterior = await redis.client.hgetall(partitionKey(prefix, tp, 'posterior'));
    // u1's clicks take u1's segment from u1's record and from the old one; u3's click on the old record is an orphan.
    expect(posterior['clk|a|tv']).toBe('2');
    expect(posterior['clk|a|web']).toBeUndefined();
    expect(posterior['clk|a|*']).toBe('3');
    expect(await redis.client.hget(partitionKey(prefix, tp, 'stats'), 'orphanClicks')).toBe('1');
  });

  it('upserts and deletes CDC rows, last change of a batch wins', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const cdc = { topic: 'cdc.items', partition: 0 };
    const row = (itemId: string, available: boolean) => ({
      itemId,
      title: `T${itemId}`,
      category: 'c',
      tags: ['x'],
      available,
      createdAt: 5,
    });
    const source = { connector: 'postgresql', db: 'shop', table: 'items', ts_ms: 1, lsn: null };
    const change = (
      op: 'c' | 'u' | 'd',
      before: ReturnType<typeof row> | null,
      after: ReturnType<typeof row> | null,
    ): ItemChange => ({ op, before, after, ts_ms: 1, source });
    const recs: PartitionRecord[] = [
      change('c', null, row('a', true)),
      change('c', null, row('b', true)),
      change('u', row('b', true), row('b', false)),
      change('c', null, row('c', true)),
      change('d', row('c', true), null),
    ].map((c, offset) => ({ offset, kind: 'itemChange', change: c }));
    recs.push(
      { offset: 5, kind: 'tombstone' },
      { offset: 6, kind: 'dead', code: 'CROUPIER_ERR_STREAM_CDC_EMPTY' },
    );
    await applyPartitionBatch(s, cdc, 'items', recs, -1, fold);
    const items = await redis.client.hgetall(partitionKey(prefix, cdc, 'items'));
    expect(Object.keys(items).sort()).toEqual(['a', 'b']);
    expect(JSON.parse(items.b)).toEqual(row('b', false));
    const [[, fields]] = await redis.client.xrange(partitionKey(prefix, cdc, 'feed'), '-', '+');
    expect(fields).toEqual([
      'o',
      '6',
      'd',
      JSON.stringify({ items: { a: row('a', true), b: row('b', false), c: null } }),
    ]);
    expect(await redis.client.hgetall(partitionKey(prefix, cdc, 'stats'))).toEqual({
      batches: '1',
      events: '5',
      tombstones: '1',
      'dlq:CROUPIER_ERR_STREAM_CDC_EMPTY': '1',
    });
  });
});
