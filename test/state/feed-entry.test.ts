/**
 * The compact change-feed entry (`c`, src/state/layout/feed-entry.ts): what the writer's script appends and the live
 * reader applies without a JSON parser. Round trip through a real Redis, the JSON fallback, and malformed entries
 * refused (counted, logged once) while the cache keeps applying the entries after them.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FEED_SEPARATOR,
  partitionKey,
  recentKey,
  type TopicPartition,
  userKey,
} from '../../src/state/layout/index.ts';
import { createFeedEntryApplier } from '../../src/state/live-reader/apply-feed-entry.ts';
import { startLiveStateReader } from '../../src/state/live-reader/index.ts';
import { parseItemHash, parsePosteriorHash } from '../../src/state/live-reader/parse-state.ts';
import { StateTables } from '../../src/state/live-reader/state-tables.ts';
import { createStateWriter } from '../../src/state/writer/index.ts';
import { applyPartitionBatch } from '../../streams/apply.ts';
import type { PartitionRecord } from '../../streams/fold/partition-batch.ts';
import type { ClickstreamEvent } from '../../streams/schemas/index.ts';
import { eventually } from '../gateway/support.ts';
import { generateClickstream } from '../streams/support/events.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

const HALF_LIFE = 3_600_000;
const US = FEED_SEPARATOR;
const tp: TopicPartition = { topic: 'clickstream', partition: 0 };
let redis: TestRedis;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.close();
});

async function writeBatches(prefix: string, batches: ClickstreamEvent[][]): Promise<void> {
  const writer = createStateWriter({
    redis: redis.client,
    keyPrefix: prefix,
    groupId: 'g',
    changeFeedMaxLen: 10_000,
    recentClicks: 3,
    halfLifeMs: HALF_LIFE,
    requestTtlSeconds: 3600,
  });
  await writer.init();
  let offset = 0;
  let applied = -1;
  for (const batch of batches) {
    const records: PartitionRecord[] = batch.map((event) => ({ offset: offset++, kind: 'event', event }));
    const result = await applyPartitionBatch(writer, tp, 'clickstream', records, applied, {
      halfLifeMs: HALF_LIFE,
      recentClicks: 3,
    });
    applied = result.applied;
  }
}

async function feedEntries(prefix: string): Promise<string[][]> {
  const entries = (await redis.client.xrange(partitionKey(prefix, tp, 'feed'), '-', '+')) as [
    string,
    string[],
  ][];
  return entries.map(([, fields]) => fields);
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));

describe('compact change-feed entries', () => {
  it('are what the writer appends, and applied from empty they give the state Redis holds', async () => {
    const prefix = redis.prefix();
    const events = generateClickstream({ seed: 3, users: 25, items: 30, requests: 500, carouselShare: 0.5 });
    const batches: ClickstreamEvent[][] = [];
    for (let i = 0; i < events.length; i += 37) batches.push(events.slice(i, i + 37));
    await writeBatches(prefix, batches);

    const entries = await feedEntries(prefix);
    expect(entries).toHaveLength(batches.length);
    expect(entries.every((fields) => fields[2] === 'c' && fields.length === 4)).toBe(true);
    const tables = new StateTables({ halfLifeSeconds: HALF_LIFE / 1000 });
    const counters = { entriesApplied: 0, malformed: 0 };
    const applier = createFeedEntryApplier(tables, counters);
    for (const fields of entries) expect(applier.apply('click', 0, fields)).toBeNull();
    expect(counters).toEqual({ entriesApplied: entries.length, malformed: 0 });

    const posterior = parsePosteriorHash(await redis.client.hgetall(partitionKey(prefix, tp, 'posterior')));
    expect(posterior.size).toBeGreaterThan(50);
    for (const [key, [imp, clk]] of posterior) {
      const bar = key.indexOf('|');
      expect(tables.arm(key.slice(0, bar), key.slice(bar + 1)), key).toEqual({
        impressions: imp,
        clicks: clk,
      });
    }
    const items = parseItemHash(await redis.client.hgetall(partitionKey(prefix, tp, 'item')));
    for (const [itemId, stored] of items) {
      const applied = tables.itemCounters(0, itemId);
      for (const [field, value] of Object.entries(stored)) {
        expect(
          close(applied?.[field as keyof typeof stored] ?? Number.NaN, value),
          `${itemId} ${field}`,
        ).toBe(true);
      }
    }
    const users = new Set(events.map((e) => e.event.userId));
    for (const userId of users) {
      const stored = await redis.client.hgetall(userKey(prefix, tp, userId));
      const activity = tables.activityOf(userId);
      expect(activity, userId).toBeDefined();
      for (const field of ['imp', 'clk', 'conv', 'convValue', 'watchMs', 'lastActive'] as const) {
        expect(close(activity?.[field] ?? Number.NaN, Number(stored[field] ?? 0)), `${userId} ${field}`).toBe(
          true,
        );
      }
      expect(activity?.recent).toEqual(await redis.client.lrange(recentKey(prefix, tp, userId), 0, -1));
    }
  });

  it('fall back to JSON when an id holds the separator, which the reader still applies', async () => {
    const prefix = redis.prefix();
    const itemId = `odd${US}item`;
    const events = generateClickstream({ seed: 4, users: 3, items: 3, requests: 5 });
    const impression = events.find((e) => e.type === 'Impression');
    if (impression?.type !== 'Impression') throw new Error('the generator wrote no impression');
    await writeBatches(prefix, [[{ type: 'Impression', event: { ...impression.event, itemId } }]]);
    const [fields] = await feedEntries(prefix);
    expect(fields[2]).toBe('d');
    const tables = new StateTables({ halfLifeSeconds: 3600 });
    expect(
      createFeedEntryApplier(tables, { entriesApplied: 0, malformed: 0 }).apply('click', 0, fields),
    ).toBeNull();
    expect(tables.arm(itemId, '*')).toEqual({ impressions: 1, clicks: 0 });
  });

  it('refuses a malformed entry whole, says why, and applies the next one', () => {
    const tables = new StateTables({ halfLifeSeconds: 3600 });
    const counters = { entriesApplied: 0, malformed: 0 };
    const applier = createFeedEntryApplier(tables, counters);
    const entry = (tokens: (string | number)[]) => ['o', '1', 'c', tokens.join(US)];
    expect(applier.apply('click', 0, entry(['a', 'i1|*', 5, 1]))).toBeNull();
    const malformed: [string, (string | number)[], string][] = [
      ['cut short', ['a', 'i1|*', 9], 'cut short'],
      ['an unknown tag', ['x', 'i1|*', 9, 2], 'unknown record tag "x"'],
      ['a negative count', ['a', 'i1|*', -1, 0], 'not a number ≥ 0'],
      ['a count that is no number', ['a', 'i1|*', '9z', 0], 'not a number ≥ 0'],
      ['an empty key', ['a', '', 9, 0], 'empty key'],
      ['an empty item id', ['i', '', 1, '', '', '', '', 5, '', '', ''], 'empty id'],
      ['a NaN', ['i', 'i1', 'nan', '', '', '', '', 5, '', '', ''], 'imp that is not a number'],
      ['more recent items than it holds', ['u', 'u1', 1, '', '', '', '', 5, 3, 'i1'], 'more recent items'],
      ['a fractional recent count', ['u', 'u1', 1, '', '', '', '', 5, 0.5, 'i1'], 'not an integer'],
      // Good records before the bad one change nothing either: the entry is checked whole before it is applied.
      ['a good record then garbage', ['a', 'i1|*', 50, 10, 'i', 'i1'], 'cut short'],
    ];
    for (const [what, tokens, reason] of malformed) {
      expect(applier.apply('click', 0, entry(tokens)), what).toContain(reason);
      expect(tables.arm('i1', '*'), what).toEqual({ impressions: 5, clicks: 1 });
    }
    expect(applier.apply('click', 0, ['o', '1'])).toContain('neither');
    expect(counters).toEqual({ entriesApplied: 1, malformed: malformed.length + 1 });

    expect(
      applier.apply(
        'click',
        0,
        entry([
          'a',
          'i1|*',
          7,
          2,
          'i',
          'i1',
          7,
          2,
          '',
          '',
          '',
          900,
          '',
          '',
          '',
          'u',
          'u1',
          7,
          '',
          '',
          '',
          '',
          900,
          1,
          'i1',
        ]),
      ),
    ).toBeNull();
    expect(tables.arm('i1', '*')).toEqual({ impressions: 7, clicks: 2 });
    expect(tables.itemFeatures('i1')).toMatchObject({ impressions: 7, clicks: 2, lastSeen: 900 });
    expect(tables.activityOf('u1')).toEqual({
      imp: 7,
      clk: 0,
      conv: 0,
      convValue: 0,
      watchMs: 0,
      lastActive: 900,
      recent: ['i1'],
    });
    // A user record that leaves fields and the recent items out keeps their previous values.
    expect(applier.apply('click', 0, entry(['u', 'u1', '', 3, '', '', '', 950, '']))).toBeNull();
    expect(tables.activityOf('u1')).toMatchObject({ imp: 7, clk: 3, lastActive: 950, recent: ['i1'] });
  });

  it('keep the live reader serving past a malformed entry, which is counted and logged once', async () => {
    const prefix = redis.prefix();
    const feed = partitionKey(prefix, tp, 'feed');
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const reader = await startLiveStateReader({
      redis: redis.client,
      keyPrefix: prefix,
      topics: { clickstream: 'clickstream', cdcItems: 'cdc.items', cdcUsers: 'cdc.users' },
      partitions: { clickstream: 1, cdcItems: 1, cdcUsers: 1 },
      halfLifeSeconds: 3600,
      pollMs: 10,
      logger,
    });
    try {
      await redis.client.xadd(feed, '*', 'o', '1', 'c', ['a', 'i1|*', 4, 1].join(US));
      await redis.client.xadd(feed, '*', 'o', '2', 'c', ['a', 'i1|*', 'four', 1].join(US));
      await redis.client.xadd(feed, '*', 'o', '3', 'c', ['a', 'i1|*'].join(US));
      await redis.client.xadd(feed, '*', 'o', '4', 'c', ['a', 'i1|*', 6, 2].join(US));
      await eventually(() => (reader.arm('i1', '*').impressions === 6 ? true : undefined));
      expect(reader.arm('i1', '*')).toEqual({ impressions: 6, clicks: 2 });
      expect(reader.freshness()).toMatchObject({ entriesApplied: 2, malformedEntries: 2 });
      const refused = lines.filter((line) => line.includes('change-feed entry was refused'));
      expect(refused).toHaveLength(1);
      expect(JSON.parse(refused[0])).toMatchObject({
        level: 50,
        feed,
        reason: expect.stringContaining('not a number'),
      });
    } finally {
      await reader.close();
    }
  });
});
