/**
 * The live reader when Redis loses its state: it keeps serving its last good copy, says why it is not ready, never
 * takes the empty state, and takes the rebuilt state once the writer's marker says the rebuild is done. Also what
 * bounds its tables: deleted items and idle users leave them, and decayed counts never overflow.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.ts';
import { type LiveStateReader, startLiveStateReader } from '../../src/state/live-reader/index.ts';
import { emptyItemCounters } from '../../src/state/live-reader/parse-state.ts';
import { StateTables } from '../../src/state/live-reader/state-tables.ts';
import { createStateWriter, type StateWriter } from '../../src/state/writer/index.ts';
import { applyPartitionBatch } from '../../streams/apply.ts';
import type { PartitionRecord } from '../../streams/fold/partition-batch.ts';
import type { ItemChange } from '../../streams/schemas/index.ts';
import { eventually } from '../gateway/support.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

const TOPICS = { clickstream: 'clickstream', cdcItems: 'cdc.items', cdcUsers: 'cdc.users' };
const PARTITIONS = { clickstream: 1, cdcItems: 1, cdcUsers: 1 };
const ITEMS = { topic: TOPICS.cdcItems, partition: 0 };
const fold = { halfLifeMs: 3_600_000, recentClicks: 3 };
const source = { connector: 'postgresql', db: 'shop', table: 'items', ts_ms: 1, lsn: null };

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.close();
});

const row = (itemId: string) => ({
  itemId,
  title: itemId,
  category: 'c',
  tags: [],
  available: true,
  createdAt: 1,
});
const created = (itemId: string): ItemChange => ({
  op: 'c',
  before: null,
  after: row(itemId),
  ts_ms: 1,
  source,
});
const deleted = (itemId: string): ItemChange => ({
  op: 'd',
  before: row(itemId),
  after: null,
  ts_ms: 1,
  source,
});

function writer(prefix: string, client = redis.client): StateWriter {
  return createStateWriter({
    redis: client,
    keyPrefix: prefix,
    groupId: 'g',
    changeFeedMaxLen: 1000,
    recentClicks: 3,
    halfLifeMs: fold.halfLifeMs,
    requestTtlSeconds: 3600,
  });
}

/** Applies item changes as the topology does, the first at `from`; returns the last offset. */
async function applyItems(s: StateWriter, changes: ItemChange[], from: number): Promise<number> {
  const recs: PartitionRecord[] = changes.map((change, i) => ({
    offset: from + i,
    kind: 'itemChange',
    change,
  }));
  const result = await applyPartitionBatch(s, ITEMS, 'items', recs, from - 1, fold);
  if (result.kind !== 'done') throw new Error('batch not applied');
  return result.applied;
}

function readerOn(prefix: string): Promise<LiveStateReader> {
  return startLiveStateReader({
    redis: redis.client,
    keyPrefix: prefix,
    topics: TOPICS,
    partitions: PARTITIONS,
    halfLifeSeconds: 3600,
    pollMs: 10,
    markerCheckMs: 20,
    logger: silentLogger(),
  });
}

const ids = (reader: LiveStateReader) =>
  reader
    .items()
    .map((i) => i.itemId)
    .sort();

describe('live reader when Redis loses a partition', () => {
  it('keeps its last good copy and is not ready until the rebuild is done, then takes the rebuilt state', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const catalog = ['a', 'b', 'c', 'd'].map(created);
    await applyItems(s, catalog, 0);
    const reader = await readerOn(prefix);
    try {
      expect(ids(reader)).toEqual(['a', 'b', 'c', 'd']);
      expect(reader.health()).toEqual({ ready: true, reasons: [] });

      // Redis restarts empty.
      await redis.client.del(...(await redis.client.keys(`${prefix}*`)));
      await eventually(() => (reader.health().ready ? undefined : true));
      expect(reader.health().reasons.join(' ')).toMatch(/cdc\.items:0: Redis lost/);
      expect(ids(reader)).toEqual(['a', 'b', 'c', 'd']);

      // The topology marks the rebuild and folds the log again, part of it first: still the old copy.
      s.noteLogEnd(ITEMS, 3);
      await s.markRebuild(ITEMS, 3);
      await applyItems(s, catalog.slice(0, 2), 0);
      await new Promise((r) => setTimeout(r, 200));
      expect(ids(reader)).toEqual(['a', 'b', 'c', 'd']);
      expect(reader.health().ready).toBe(false);

      // The rest, and a deletion after it: the reader takes the rebuilt state.
      await applyItems(s, [...catalog.slice(2), deleted('a')], 2);
      await eventually(() => (reader.health().ready ? true : undefined));
      await eventually(() => (ids(reader).length === 3 ? true : undefined));
      expect(ids(reader)).toEqual(['b', 'c', 'd']);
      expect(reader.freshness().heldPartitions).toBe(0);
    } finally {
      await reader.close();
    }
  });

  it('follows a rebuild it started during, and is not ready until it ends', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    s.noteLogEnd(ITEMS, 3);
    await applyItems(s, ['a', 'b'].map(created), 0);
    const reader = await readerOn(prefix);
    try {
      expect(ids(reader)).toEqual(['a', 'b']);
      expect(reader.health().reasons.join(' ')).toMatch(
        /cdc\.items:0: being rebuilt from Kafka \(until offset 3\)/,
      );
      await applyItems(s, ['c', 'd'].map(created), 2);
      await eventually(() => (reader.health().ready ? true : undefined));
      expect(ids(reader)).toEqual(['a', 'b', 'c', 'd']);
    } finally {
      await reader.close();
    }
  });
});

describe('live reader closing', () => {
  it('closes while Redis is gone, without waiting for its read round to use up the client retries', async () => {
    const own = await startTestRedis();
    // A client with ioredis's default retries, as the gateway's: a command waits through about a minute of them.
    const client = new Redis({ host: own.server.host, port: own.server.port });
    client.on('error', () => undefined);
    own.client.on('error', () => undefined);
    try {
      const prefix = own.prefix();
      await applyItems(writer(prefix, own.client), [created('a')], 0);
      const reader = await startLiveStateReader({
        redis: client,
        keyPrefix: prefix,
        topics: TOPICS,
        partitions: PARTITIONS,
        halfLifeSeconds: 3600,
        pollMs: 10,
        logger: silentLogger(),
      });
      await own.server.kill();
      let settled = false;
      const probe = client.ping().finally(() => {
        settled = true;
      });
      probe.catch(() => undefined);
      // Rounds keep starting every poll; one is in flight behind the probe.
      await new Promise((r) => setTimeout(r, 200));
      await reader.close();
      // The reader closed while a command sent before its close still waits for Redis.
      expect(settled).toBe(false);
    } finally {
      client.disconnect();
      await own.close();
    }
  });
});

describe('live reader readiness', () => {
  it('is not ready while the catalog holds no available item, and ready once one arrives', async () => {
    const prefix = redis.prefix();
    const s = writer(prefix);
    const reader = await readerOn(prefix);
    try {
      expect(reader.health()).toEqual({
        ready: false,
        reasons: [
          'no available item in the catalog (none has arrived on cdc.items yet): carousels would be empty',
        ],
      });
      const last = await applyItems(s, [created('a')], 0);
      await eventually(() => (reader.health().ready ? true : undefined));
      expect(ids(reader)).toEqual(['a']);
      await applyItems(s, [deleted('a')], last + 1);
      await eventually(() => (reader.health().ready ? undefined : true));
      expect(ids(reader)).toEqual([]);
    } finally {
      await reader.close();
    }
  });
});

describe('live reader tables', () => {
  it("drops a deleted item's counts and idle users' activity, keeping the rest", () => {
    const tables = new StateTables({ halfLifeSeconds: 60 });
    tables.replaceItemPartition(0, new Map(['a', 'b'].map((id) => [id, { ...row(id) }])));
    for (const id of ['a', 'b']) {
      tables.setArm(0, `${id}|*`, 10, 2);
      tables.setArm(1, `${id}|mobile`, 4, 1);
      tables.setItemCounters(0, id, { ...emptyItemCounters(), imp: 10, clk: 2 });
    }
    const activity = { imp: 1, clk: 0, conv: 0, convValue: 0, watchMs: 0, lastActive: 1, recent: [] };
    tables.setUserActivity(0, 'old', activity);
    tables.setUserActivity(0, 'recent', activity);

    tables.setItemRow(0, 'a', null);
    expect(tables.arm('a', '*')).toEqual({ impressions: 0, clicks: 0 });
    expect(tables.arm('a', 'mobile')).toEqual({ impressions: 0, clicks: 0 });
    expect(tables.itemFeatures('a')).toBeUndefined();
    expect(tables.arm('b', '*')).toEqual({ impressions: 10, clicks: 2 });

    const now = Date.now();
    tables.touchUser('recent', now + 50_000);
    expect(tables.evictIdle(60_000, now + 70_000)).toEqual({ users: 1, items: 0 });
    expect(tables.user('old')).toBeUndefined();
    expect(tables.user('recent')).toMatchObject({ impressions: 1 });
    expect(tables.sizes()).toEqual({ users: 1, countedItems: 1, catalogItems: 1 });
  });

  it('drops the counts of an item out of the catalog for the idle time, even when they come back after it left', () => {
    const tables = new StateTables({ halfLifeSeconds: 60 });
    tables.setItemCounters(0, 'ghost', { ...emptyItemCounters(), imp: 3 });
    tables.setArm(0, 'ghost|*', 3, 0);
    const now = Date.now();
    expect(tables.evictIdle(60_000, now)).toEqual({ users: 0, items: 0 });
    expect(tables.evictIdle(60_000, now + 60_000)).toEqual({ users: 0, items: 1 });
    expect(tables.arm('ghost', '*')).toEqual({ impressions: 0, clicks: 0 });
  });

  it('keeps the decayed CTR finite and right after more than a thousand half-lives of uptime', () => {
    const tables = new StateTables({ halfLifeSeconds: 60 });
    const later = Date.now() + 1100 * 60_000;
    tables.setItemCounters(0, 'a', { ...emptyItemCounters(), dimp: 4, dclk: 2, dts: later - 60_000 });
    tables.setItemCounters(1, 'a', { ...emptyItemCounters(), dimp: 2, dclk: 0, dts: later });
    // At `later`: partition 0 halves (2 imp, 1 clk), partition 1 as is (2 imp, 0 clk): 1 / 4.
    expect(tables.itemFeatures('a')?.decayedCtr).toBeCloseTo(0.25, 12);
  });
});
