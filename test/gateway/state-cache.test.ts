import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisClusterHandle, startRedisCluster } from '../../src/embedded/redis-cluster.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { type StateCache, startStateCache } from '../../src/state-cache/index.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { eventually } from './support.ts';

const TOPICS = { clickstream: 'clickstream', cdcItems: 'cdc.items', cdcUsers: 'cdc.users' };
const PARTITIONS = { clickstream: 2, cdcItems: 1, cdcUsers: 1 };

type Client = Redis | Cluster;

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
  const tag = `${prefix}{clickstream:${p}}`;
  const multi = redis.multi();
  for (const [key, [imp, clk]] of Object.entries(posterior)) {
    multi.hset(`${tag}:posterior`, `imp|${key}`, imp, `clk|${key}`, clk);
  }
  for (const [itemId, fields] of Object.entries(items)) {
    for (const [f, v] of Object.entries(fields)) multi.hset(`${tag}:item`, `${f}|${itemId}`, v);
  }
  const d = JSON.stringify({ posterior, item: items, user: {} });
  if (maxLen === undefined) multi.xadd(`${tag}:feed`, '*', 'o', '1', 'd', d);
  else multi.xadd(`${tag}:feed`, 'MAXLEN', maxLen, '*', 'o', '1', 'd', d);
  await multi.exec();
}

async function setItems(redis: Client, prefix: string, rows: Record<string, unknown>): Promise<void> {
  const tag = `${prefix}{cdc.items:0}`;
  const multi = redis.multi();
  for (const [itemId, r] of Object.entries(rows)) {
    if (r === null) multi.hdel(`${tag}:items`, itemId);
    else multi.hset(`${tag}:items`, itemId, JSON.stringify(r));
  }
  multi.xadd(`${tag}:feed`, '*', 'o', '1', 'd', JSON.stringify({ items: rows }));
  await multi.exec();
}

function cacheOn(redis: Client, prefix: string, pollMs = 10): Promise<StateCache> {
  return startStateCache({
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
      const cache = await cacheOn(env.client, prefix);
      try {
        expect(
          cache
            .items()
            .map((i) => i.itemId)
            .sort(),
        ).toEqual(['a', 'b']);
        expect(cache.arm('a', '*')).toEqual({ impressions: 15, clicks: 3 });
        expect(cache.arm('a', 'mobile|x')).toEqual({ impressions: 4, clicks: 1 });
        expect(cache.arm('b', '*')).toEqual({ impressions: 0, clicks: 0 });
        expect(cache.itemFeatures('a')).toMatchObject({
          impressions: 15,
          clicks: 3,
          lastSeen: 900,
          decayedCtr: 0.25,
        });

        await applyClickBatch(env.client, prefix, 1, { 'a|*': [9, 4], 'b|*': [3, 0] });
        await eventually(() => (cache.arm('a', '*').impressions === 19 ? true : undefined));
        expect(cache.arm('a', '*')).toEqual({ impressions: 19, clicks: 6 });
        expect(cache.arm('b', '*')).toEqual({ impressions: 3, clicks: 0 });

        await setItems(env.client, prefix, { b: row('b', false), c: row('c') });
        await eventually(() => (cache.items().some((i) => i.itemId === 'c') ? true : undefined));
        expect(
          cache
            .items()
            .map((i) => i.itemId)
            .sort(),
        ).toEqual(['a', 'c']);
        await setItems(env.client, prefix, { a: null });
        await eventually(() => (cache.items().length === 1 ? true : undefined));
        expect(cache.items()[0].itemId).toBe('c');
        expect(cache.freshness().entriesApplied).toBeGreaterThanOrEqual(3);
      } finally {
        await cache.close();
      }
    });

    it('takes a fresh snapshot of a partition whose feed was trimmed past its position', async () => {
      const prefix = env.prefix();
      await applyClickBatch(env.client, prefix, 0, { 'z|*': [1, 0] });
      const cache = await cacheOn(env.client, prefix, 300);
      try {
        for (let n = 2; n <= 6; n++)
          await applyClickBatch(env.client, prefix, 0, { [`z${n}|*`]: [n, 1] }, {}, 2);
        await eventually(() => (cache.freshness().resnapshots > 0 ? true : undefined));
        await eventually(() => (cache.arm('z6', '*').impressions === 6 ? true : undefined));
        for (let n = 2; n <= 6; n++) expect(cache.arm(`z${n}`, '*')).toEqual({ impressions: n, clicks: 1 });
        expect(cache.arm('z', '*')).toEqual({ impressions: 1, clicks: 0 });
      } finally {
        await cache.close();
      }
    });

    it('loads user activity on demand and keeps users from cdc.users', async () => {
      const prefix = env.prefix();
      await env.client
        .multi()
        .hset(
          `${prefix}{cdc.users:0}:users`,
          'u1',
          JSON.stringify({ userId: 'u1', segment: 'premium', country: 'FR', subscribed: true }),
        )
        .exec();
      for (let p = 0; p < PARTITIONS.clickstream; p++) {
        await env.client
          .multi()
          .hset(`${prefix}{clickstream:${p}}:user:u1`, 'imp', 7, 'clk', 2, 'lastActive', 1234)
          .lpush(`${prefix}{clickstream:${p}}:recent:u1`, 'x', 'y')
          .exec();
      }
      const cache = await cacheOn(env.client, prefix);
      try {
        expect(cache.user('u1')).toMatchObject({
          segment: 'premium',
          country: 'FR',
          subscribed: true,
          impressions: 0,
        });
        await cache.loadUser('u1');
        expect(cache.user('u1')).toMatchObject({
          segment: 'premium',
          impressions: 7,
          clicks: 2,
          recent: ['y', 'x'],
        });
        expect(cache.userIds(10)).toEqual(['u1']);
      } finally {
        await cache.close();
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

behaviours('change-feed cache on a single Redis', async () => {
  single = await startTestRedis();
  return { client: single.client, prefix: () => single.prefix() };
});

behaviours('change-feed cache on a Redis Cluster', async () => {
  cluster = await startRedisCluster(3);
  clusterClient = new Cluster(
    cluster.seeds.map((s) => ({ host: s.split(':')[0], port: Number(s.split(':')[1]) })),
    { enableAutoPipelining: true },
  );
  return { client: clusterClient, prefix: () => `test:${Math.random().toString(16).slice(2, 10)}:` };
});
