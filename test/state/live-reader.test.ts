import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemInfo } from '../../src/domain/decision.ts';
import { type RedisClusterHandle, startRedisCluster } from '../../src/embedded/redis-cluster.ts';
import { silentLogger } from '../../src/log/logger.ts';
import {
  type ClickstreamFeedData,
  type ItemsFeedData,
  partitionKey,
  recentKey,
  userKey,
} from '../../src/state/layout/index.ts';
import { type LiveStateReader, startLiveStateReader } from '../../src/state/live-reader/index.ts';
import { emptyItemCounters, parsePosteriorHash } from '../../src/state/live-reader/parse-state.ts';
import { type StateChange, StateTables } from '../../src/state/live-reader/state-tables.ts';
import { eventually } from '../gateway/support.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

const TOPICS = { clickstream: 'clickstream', cdcItems: 'cdc.items', cdcUsers: 'cdc.users' };
const PARTITIONS = { clickstream: 2, cdcItems: 1, cdcUsers: 1 };

type Client = Redis | Cluster;

const item = (itemId: string, available = true): ItemInfo => ({
  itemId,
  title: itemId,
  category: 'c',
  tags: [],
  available,
  createdAt: 0,
});

const row = (itemId: string, available = true) => ({
  itemId,
  title: `T ${itemId}`,
  category: 'news',
  tags: ['a'],
  available,
  createdAt: 1,
});

/** Writes what the topology writes for one clickstream batch: the hashes and one feed entry. */
async function applyClickBatch(
  redis: Client,
  prefix: string,
  p: number,
  posterior: Record<string, [number, number]>,
  items: Record<string, Record<string, number>> = {},
  maxLen?: number,
): Promise<void> {
  const tp = { topic: TOPICS.clickstream, partition: p };
  const feed = partitionKey(prefix, tp, 'feed');
  const multi = redis.multi();
  for (const [key, [imp, clk]] of Object.entries(posterior)) {
    multi.hset(partitionKey(prefix, tp, 'posterior'), `imp|${key}`, imp, `clk|${key}`, clk);
  }
  for (const [itemId, fields] of Object.entries(items)) {
    for (const [f, v] of Object.entries(fields))
      multi.hset(partitionKey(prefix, tp, 'item'), `${f}|${itemId}`, v);
  }
  const entry: ClickstreamFeedData = { posterior, item: items, user: {} };
  const d = JSON.stringify(entry);
  if (maxLen === undefined) multi.xadd(feed, '*', 'o', '1', 'd', d);
  else multi.xadd(feed, 'MAXLEN', maxLen, '*', 'o', '1', 'd', d);
  await multi.exec();
}

async function setItems(redis: Client, prefix: string, rows: Record<string, unknown>): Promise<void> {
  const tp = { topic: TOPICS.cdcItems, partition: 0 };
  const multi = redis.multi();
  for (const [itemId, r] of Object.entries(rows)) {
    if (r === null) multi.hdel(partitionKey(prefix, tp, 'items'), itemId);
    else multi.hset(partitionKey(prefix, tp, 'items'), itemId, JSON.stringify(r));
  }
  const entry: ItemsFeedData = { items: rows };
  multi.xadd(partitionKey(prefix, tp, 'feed'), '*', 'o', '1', 'd', JSON.stringify(entry));
  await multi.exec();
}

function readerOn(redis: Client, prefix: string, pollMs = 10): Promise<LiveStateReader> {
  return startLiveStateReader({
    redis,
    keyPrefix: prefix,
    topics: TOPICS,
    partitions: PARTITIONS,
    halfLifeSeconds: 3600,
    pollMs,
    logger: silentLogger(),
  });
}

function behaviours(name: string, setup: () => Promise<{ client: Client; prefix: () => string }>) {
  describe(name, () => {
    let env: { client: Client; prefix: () => string };
    beforeAll(async () => {
      env = await setup();
    });

    it('starts from a snapshot, then follows the feeds, summing item counts over partitions', async () => {
      const prefix = env.prefix();
      await setItems(env.client, prefix, { a: row('a'), b: row('b') });
      await applyClickBatch(
        env.client,
        prefix,
        0,
        { 'a|*': [10, 2], 'a|mobile|x': [4, 1] },
        {
          a: { imp: 10, clk: 2, seen: 500, dimp: 8, dclk: 2, dts: Date.now() },
        },
      );
      await applyClickBatch(env.client, prefix, 1, { 'a|*': [5, 1] }, { a: { imp: 5, clk: 1, seen: 900 } });
      const reader = await readerOn(env.client, prefix);
      try {
        expect(
          reader
            .items()
            .map((i) => i.itemId)
            .sort(),
        ).toEqual(['a', 'b']);
        expect(reader.arm('a', '*')).toEqual({ impressions: 15, clicks: 3 });
        expect(reader.arm('a', 'mobile|x')).toEqual({ impressions: 4, clicks: 1 });
        expect(reader.arm('b', '*')).toEqual({ impressions: 0, clicks: 0 });
        expect(reader.itemFeatures('a')).toMatchObject({
          impressions: 15,
          clicks: 3,
          lastSeen: 900,
          decayedCtr: 0.25,
        });

        await applyClickBatch(env.client, prefix, 1, { 'a|*': [9, 4], 'b|*': [3, 0] });
        await eventually(() => (reader.arm('a', '*').impressions === 19 ? true : undefined));
        expect(reader.arm('a', '*')).toEqual({ impressions: 19, clicks: 6 });
        expect(reader.arm('b', '*')).toEqual({ impressions: 3, clicks: 0 });

        await setItems(env.client, prefix, { b: row('b', false), c: row('c') });
        await eventually(() => (reader.items().some((i) => i.itemId === 'c') ? true : undefined));
        expect(
          reader
            .items()
            .map((i) => i.itemId)
            .sort(),
        ).toEqual(['a', 'c']);
        await setItems(env.client, prefix, { a: null });
        await eventually(() => (reader.items().length === 1 ? true : undefined));
        expect(reader.items()[0].itemId).toBe('c');
        expect(reader.freshness().entriesApplied).toBeGreaterThanOrEqual(3);
      } finally {
        await reader.close();
      }
    });

    it('takes a fresh snapshot of a partition whose feed was trimmed past its position', async () => {
      const prefix = env.prefix();
      await applyClickBatch(env.client, prefix, 0, { 'z|*': [1, 0] });
      const reader = await readerOn(env.client, prefix, 300);
      try {
        for (let n = 2; n <= 6; n++)
          await applyClickBatch(env.client, prefix, 0, { [`z${n}|*`]: [n, 1] }, {}, 2);
        await eventually(() => (reader.freshness().resnapshots > 0 ? true : undefined));
        await eventually(() => (reader.arm('z6', '*').impressions === 6 ? true : undefined));
        for (let n = 2; n <= 6; n++) expect(reader.arm(`z${n}`, '*')).toEqual({ impressions: n, clicks: 1 });
        expect(reader.arm('z', '*')).toEqual({ impressions: 1, clicks: 0 });
      } finally {
        await reader.close();
      }
    });

    it('loads user activity on demand and keeps users from cdc.users', async () => {
      const prefix = env.prefix();
      await env.client
        .multi()
        .hset(
          partitionKey(prefix, { topic: TOPICS.cdcUsers, partition: 0 }, 'users'),
          'u1',
          JSON.stringify({ userId: 'u1', segment: 'premium', country: 'FR', subscribed: true }),
        )
        .exec();
      for (let p = 0; p < PARTITIONS.clickstream; p++) {
        const tp = { topic: TOPICS.clickstream, partition: p };
        await env.client
          .multi()
          .hset(userKey(prefix, tp, 'u1'), 'imp', 7, 'clk', 2, 'lastActive', 1234)
          .lpush(recentKey(prefix, tp, 'u1'), 'x', 'y')
          .exec();
      }
      const reader = await readerOn(env.client, prefix);
      try {
        expect(reader.user('u1')).toMatchObject({
          segment: 'premium',
          country: 'FR',
          subscribed: true,
          impressions: 0,
        });
        await reader.loadUser('u1');
        expect(reader.user('u1')).toMatchObject({
          segment: 'premium',
          impressions: 7,
          clicks: 2,
          recent: ['y', 'x'],
        });
        expect(reader.userIds(10)).toEqual(['u1']);
      } finally {
        await reader.close();
      }
    });
  });
}

let single: TestRedis;
let cluster: RedisClusterHandle;
let clusterClient: Cluster;

afterAll(async () => {
  clusterClient?.disconnect();
  await Promise.all([single?.close(), cluster?.close()]);
});

behaviours('live reader on a single Redis', async () => {
  single = await startTestRedis();
  return { client: single.client, prefix: () => single.prefix() };
});

behaviours('live reader on a Redis Cluster', async () => {
  cluster = await startRedisCluster(3);
  clusterClient = new Cluster(
    cluster.seeds.map((s) => ({ host: s.split(':')[0], port: Number(s.split(':')[1]) })),
    { enableAutoPipelining: true },
  );
  return { client: clusterClient, prefix: () => `test:${Math.random().toString(16).slice(2, 10)}:` };
});

describe('in-memory tables', () => {
  it('sums arm counts over partitions and applying the same absolute values twice changes nothing', () => {
    const tables = new StateTables({ halfLifeSeconds: 60 });
    tables.setArm(0, 'a|*', 10, 2);
    tables.setArm(1, 'a|*', 5, 1);
    tables.setArm(1, 'a|*', 5, 1);
    tables.setArm(0, 'a|mobile|gold', 3, 1);
    expect(tables.arm('a', '*')).toEqual({ impressions: 15, clicks: 3 });
    expect(tables.arm('a', 'mobile|gold')).toEqual({ impressions: 3, clicks: 1 });
    tables.setArm(0, 'a|*', 12, 4);
    expect(tables.arm('a', '*')).toEqual({ impressions: 17, clicks: 5 });
    expect(tables.arm('missing', '*')).toEqual({ impressions: 0, clicks: 0 });
  });

  it('replaces a partition from a snapshot, dropping what the snapshot no longer holds', () => {
    const tables = new StateTables({ halfLifeSeconds: 60 });
    tables.setArm(0, 'a|*', 10, 2);
    tables.setArm(0, 'b|*', 4, 0);
    tables.setArm(1, 'a|*', 1, 1);
    tables.replaceClickPartition(
      0,
      parsePosteriorHash({ 'imp|a|*': '20', 'clk|a|*': '3' }),
      new Map(),
      new Map(),
    );
    expect(tables.arm('a', '*')).toEqual({ impressions: 21, clicks: 4 });
    expect(tables.arm('b', '*')).toEqual({ impressions: 0, clicks: 0 });
  });

  it('computes the decayed CTR of counts decayed at different times in different partitions', () => {
    const now = Date.now();
    const tables = new StateTables({ halfLifeSeconds: 60, referenceMs: now });
    tables.setItemCounters(0, 'a', {
      ...emptyItemCounters(),
      imp: 4,
      clk: 1,
      dimp: 4,
      dclk: 2,
      dts: now - 60_000,
    });
    tables.setItemCounters(1, 'a', { ...emptyItemCounters(), imp: 2, clk: 1, dimp: 2, dclk: 0, dts: now });
    const features = tables.itemFeatures('a');
    expect(features).toMatchObject({ impressions: 6, clicks: 2 });
    // At `now`: partition 0 halves (2 imp, 1 clk), partition 1 as is (2 imp, 0 clk): 1 / 4.
    expect(features?.decayedCtr).toBeCloseTo(0.25, 12);
  });

  it('keeps only available items in the pool and reports the ones that left', () => {
    const tables = new StateTables({ halfLifeSeconds: 60 });
    const changes: StateChange[] = [];
    tables.onChange((change) => changes.push(change));
    tables.replaceItemPartition(
      0,
      new Map([
        ['a', item('a')],
        ['b', item('b')],
      ]),
    );
    tables.flushChanges();
    tables.setItemRow(0, 'a', item('a', false));
    tables.setItemRow(0, 'b', null);
    tables.flushChanges();
    expect(tables.items()).toEqual([]);
    expect([...changes[1].removed].sort()).toEqual(['a', 'b']);
    tables.flushChanges();
    expect(changes).toHaveLength(2);
  });
});
