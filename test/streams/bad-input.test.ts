import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHeader } from '../../src/kafka/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { partitionKey, userKey } from '../../src/state/layout/index.ts';
import type { ClickstreamEvent, ItemChange, RecordShapes } from '../../streams/schemas/index.ts';
import { startStreamTopology } from '../../streams/topology.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { SAMPLE_EVENTS } from '../support/sample-events.ts';
import { compareEventsWithState } from './support/compare-state.ts';
import { readDeadLetters } from './support/dead-letters.ts';
import { generateClickstream } from './support/events.ts';
import {
  createTopics,
  foldUntilOffsets,
  type KafkaStack,
  startKafkaStack,
  testTopics,
  topologyConfig,
  waitForOffsets,
} from './support/stack.ts';

let stack: KafkaStack;
let redis: TestRedis;

beforeAll(async () => {
  [stack, redis] = await Promise.all([startKafkaStack(), startTestRedis()]);
});
afterAll(async () => {
  await stack?.close();
  await redis?.close();
});

/** Registers a Click writer schema without `requestId` (no default): unreadable as croupier's contract. */
async function registerIncompatibleClick(registryUrl: string): Promise<number> {
  const schema = {
    type: 'record',
    name: 'Click',
    namespace: 'croupier.events',
    fields: [
      { name: 'eventId', type: 'string' },
      { name: 'userId', type: 'string' },
    ],
  };
  const response = await fetch(`${registryUrl}/subjects/legacy-click/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
  return ((await response.json()) as { id: number }).id;
}

describe('bad input', () => {
  it('dead-letters every kind of bad record with its position and code, and counts the good ones exactly', async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`bad${Date.now()}`);
    await createTopics(stack.admin, topics, 1);
    const { codec } = stack;
    const good = generateClickstream({ seed: 5, users: 10, items: 8, requests: 60 });
    const click = good.find((e) => e.type === 'Click')!.event;
    const valid = await codec.encode(topics.clickstream, 'Click', { ...click, eventId: 'x' });

    const legacyId = await registerIncompatibleClick(stack.registry.url);
    const legacy = Buffer.alloc(5 + 4);
    writeHeader(legacy, legacyId);
    legacy.write('\u0002a\u0002u', 5, 'latin1');
    const unknownId = Buffer.from(valid);
    writeHeader(unknownId, 987_654);
    const source = { connector: 'postgresql', db: 'shop', table: 'items', ts_ms: 1, lsn: null };
    const emptyChange: ItemChange = { op: 'u', before: null, after: null, ts_ms: 1, source };

    // Bad records salted between good ones: [value, expected code | null (good)]
    const bad: [Buffer | null, string][] = [
      [Buffer.from('not avro at all'), 'CROUPIER_ERR_SERDE_MAGIC'],
      [unknownId, 'CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA'],
      [valid.subarray(0, valid.length - 3), 'CROUPIER_ERR_SERDE_DECODE'],
      [legacy, 'CROUPIER_ERR_SERDE_INCOMPATIBLE'],
      [
        await codec.encode(topics.clickstream, 'Click', { ...click, userId: '' }),
        'CROUPIER_ERR_STREAM_MISSING_FIELD',
      ],
      [
        await codec.encode(topics.clickstream, 'Watch', { ...click, watchTimeMs: -20 }),
        'CROUPIER_ERR_STREAM_OUT_OF_RANGE',
      ],
      [
        await codec.encode(topics.clickstream, 'Click', { ...click, itemId: 'a|b' }),
        'CROUPIER_ERR_STREAM_BAD_ID',
      ],
      [await codec.encode(topics.cdcItems, 'ItemChange', emptyChange), 'CROUPIER_ERR_STREAM_WRONG_SCHEMA'],
      [null, 'CROUPIER_ERR_STREAM_EMPTY_RECORD'],
    ];
    const orphan: ClickstreamEvent = {
      type: 'Click',
      event: { ...click, eventId: 'o', requestId: 'never-shown', timestamp: click.timestamp + 1 },
    };
    const log: { value: Buffer | null; code: string | null; event: ClickstreamEvent | null }[] = [];
    for (const [i, e] of [...good, orphan].entries()) {
      log.push({
        value: await codec.encode(topics.clickstream, e.type, e.event as never),
        code: null,
        event: e,
      });
      if (i % 7 === 3 && bad.length > 0) {
        const [value, code] = bad.shift()!;
        log.push({ value, code, event: null });
      }
    }
    expect(bad).toEqual([]);
    await stack.producer.send({
      topic: topics.clickstream,
      acks: -1,
      messages: log.map((r, i) => ({ key: `k${i}`, value: r.value, partition: 0 })),
    });
    const itemSource = { ...source };
    await stack.producer.send({
      topic: topics.cdcItems,
      acks: -1,
      messages: [
        { partition: 0, value: await codec.encode(topics.cdcItems, 'ItemChange', emptyChange) },
        {
          partition: 0,
          value: await codec.encode(topics.cdcItems, 'ItemChange', {
            op: 'c',
            before: null,
            after: { itemId: 'i1', title: 'One', category: 'c', tags: [], available: true, createdAt: 1 },
            ts_ms: 1,
            source: itemSource,
          }),
        },
      ],
    });

    await foldUntilOffsets(stack, redis.client, prefix, topics, {
      [topics.clickstream]: [log.length - 1],
      [topics.cdcItems]: [1, -1],
    });

    const expected = log.flatMap((r, offset) => (r.code ? [{ offset, code: r.code, value: r.value }] : []));
    expected.push({ offset: 0, code: 'CROUPIER_ERR_STREAM_CDC_EMPTY', value: null });
    const letters = await readDeadLetters(stack, topics.deadLetter, expected.length);
    expect(letters.map((l) => [l.topic, l.offset, l.errorCode]).sort()).toEqual(
      [
        ...expected.slice(0, -1).map((e) => [topics.clickstream, e.offset, e.code]),
        [topics.cdcItems, 0, 'CROUPIER_ERR_STREAM_CDC_EMPTY'],
      ].sort(),
    );
    for (const letter of letters.filter((l) => l.topic === topics.clickstream)) {
      expect(letter.value).toEqual(log[letter.offset].value);
      expect(letter.key?.toString()).toBe(`k${letter.offset}`);
      expect(letter.errorMessage.length).toBeGreaterThan(0);
    }

    const stats = await redis.client.hgetall(
      partitionKey(prefix, { topic: topics.clickstream, partition: 0 }, 'stats'),
    );
    for (const e of expected.slice(0, -1)) expect(stats[`dlq:${e.code}`]).toBe('1');
    const events = log.flatMap((r) => (r.event ? [r.event] : []));
    const tp = { topic: topics.clickstream, partition: 0 };
    const { reference, differences } = await compareEventsWithState(redis.client, prefix, tp, events);
    expect(reference.orphanClicks).toBeGreaterThanOrEqual(1);
    expect(differences).toEqual([]);
    const items = await redis.client.hgetall(
      partitionKey(prefix, { topic: topics.cdcItems, partition: 0 }, 'items'),
    );
    expect(Object.keys(items)).toEqual(['i1']);
  });
});

describe('records that would stall a partition', () => {
  it('dead-letters conversions too large to sum, and isolates records the state script fails on, then moves on', async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`stall${Date.now()}`);
    await createTopics(stack.admin, topics, 1);
    const tp = { topic: topics.clickstream, partition: 0 };
    // A user whose state key something else overwrote: every script call touching it fails (WRONGTYPE).
    await redis.client.set(userKey(prefix, tp, 'u-broken'), 'not a hash');
    type Sent = { schema: keyof RecordShapes; value: Record<string, unknown>; code: string | null };
    const sent: Sent[] = [];
    const base = { ...SAMPLE_EVENTS.Impression, timestamp: Date.now() };
    for (let i = 0; i < 30; i++) {
      const userId = i % 5 === 2 ? 'u-broken' : `u-${i % 5}`;
      const requestId = `r-${i}`;
      sent.push({
        schema: 'Impression',
        value: { ...base, eventId: `imp-${i}`, requestId, userId, itemId: `i-${i % 4}`, slot: 0 },
        code: userId === 'u-broken' ? 'CROUPIER_ERR_STREAM_APPLY_FAILED' : null,
      });
      if (i % 10 === 4) {
        // The attack of the report: two values whose sum is Infinity.
        for (const k of [0, 1])
          sent.push({
            schema: 'Conversion',
            value: {
              ...SAMPLE_EVENTS.Conversion,
              eventId: `big-${i}-${k}`,
              requestId,
              userId,
              value: 1.7e308,
            },
            code: 'CROUPIER_ERR_STREAM_OUT_OF_RANGE',
          });
      }
    }
    await stack.producer.send({
      topic: topics.clickstream,
      acks: -1,
      messages: await Promise.all(
        sent.map(async (r) => ({
          partition: 0,
          value: await stack.codec.encode(topics.clickstream, r.schema, r.value as never),
        })),
      ),
    });
    const config = topologyConfig({
      kafka: { topics },
      redis: { keyPrefix: prefix },
      stream: { maxBatchRecords: 50, retryInitialMs: 20, retryMaxMs: 100 },
    });
    const topology = await startStreamTopology({
      config,
      kafka: stack.kafka,
      codec: stack.codec,
      redis: redis.client,
      logger: silentLogger(),
    });
    try {
      await waitForOffsets(redis.client, prefix, config.stream.groupId, topics.clickstream, [
        sent.length - 1,
      ]);
    } finally {
      await topology.close();
    }
    const expected = sent.flatMap((r, offset) => (r.code ? [[offset, r.code]] : []));
    const letters = await readDeadLetters(stack, topics.deadLetter, expected.length);
    expect(letters.map((l) => [l.offset, l.errorCode]).sort()).toEqual(expected.sort());
    const failed = letters.find((l) => l.errorCode === 'CROUPIER_ERR_STREAM_APPLY_FAILED');
    expect(failed?.errorMessage).toMatch(/holds another type/);
    const stats = await redis.client.hgetall(partitionKey(prefix, tp, 'stats'));
    expect(Number(stats['dlq:CROUPIER_ERR_STREAM_APPLY_FAILED'])).toBe(6);
    expect(Number(stats['dlq:CROUPIER_ERR_STREAM_OUT_OF_RANGE'])).toBe(6);
    expect(Number(stats.events)).toBe(24);
    const users = await redis.client.hgetall(userKey(prefix, tp, 'u-0'));
    expect(Number(users.imp)).toBe(6);
  });
});

/**
 * Records near Kafka's 1 MB limit that the topology refuses: a dead letter carries the record's key and value and
 * was keyed by the record's key, so one such record made a dead letter no broker takes (MESSAGE_TOO_LARGE on
 * every retry), and several refused records of one fetch went in one send over the limit; either stopped the
 * partition for good. Every one must be dead-lettered, the long ones cut to fit with a note saying where the
 * whole record is, and the partition must move on.
 */
describe('dead letters of records near the size limit', () => {
  it('are all sent, cut to fit where they must be, and the partition moves on', async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`dlsize${Date.now()}`);
    await createTopics(stack.admin, topics, 1);
    const topic = topics.clickstream;
    // One record of 120 KB key and 900 KB garbage value; then three of 330 KB under one 10 KB key, sent one by one
    // so that one fetch returns them together.
    const big = { key: Buffer.alloc(120_000, 'k'), value: randomBytes(900_000) };
    const mediumKey = Buffer.alloc(10_000, 'm');
    const medium = [0, 1, 2].map(() => ({ key: mediumKey, value: randomBytes(330_000) }));
    for (const m of [big, ...medium]) {
      await stack.producer.send({ topic, acks: -1, messages: [{ partition: 0, ...m }] });
    }

    await foldUntilOffsets(stack, redis.client, prefix, topics, { [topic]: [3] });

    const letters = await readDeadLetters(stack, topics.deadLetter, 4);
    expect(letters.map((l) => [l.offset, l.errorCode])).toEqual([
      [0, 'CROUPIER_ERR_SERDE_MAGIC'],
      [1, 'CROUPIER_ERR_SERDE_MAGIC'],
      [2, 'CROUPIER_ERR_SERDE_MAGIC'],
      [3, 'CROUPIER_ERR_SERDE_MAGIC'],
    ]);
    const [cut, ...whole] = letters;
    expect(cut!.key).toEqual(big.key);
    expect(big.value.subarray(0, cut!.value!.length)).toEqual(cut!.value);
    expect(cut!.value!.length).toBeLessThan(big.value.length);
    expect(cut!.errorMessage).toMatch(
      new RegExp(`dead letter cut to fit: .*whole record is at ${topic}:0@0`),
    );
    for (const [i, letter] of whole.entries()) {
      expect(letter.key).toEqual(mediumKey);
      expect(letter.value).toEqual(medium[i]!.value);
      expect(letter.errorMessage).not.toMatch(/cut to fit/);
    }
  }, 120_000);
});
