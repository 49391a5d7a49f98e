/**
 * Records written by another Kafka client than croupier's own: kcat (librdkafka) produces malformed and garbage
 * records into the embedded broker's topics, between good ones, while the stream topology runs. Each bad record
 * must reach the dead-letter topic with its code and bytes, the partitions must move past them, and every good
 * record must be counted exactly once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHeader } from '../../src/kafka/index.ts';
import { partitionKey } from '../../src/state/layout/index.ts';
import type { ClickstreamEvent, DeadLetter, RecordShapes } from '../../streams/schemas/index.ts';
import { type KcatResult, kcat } from '../broker/support/kcat.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { SAMPLE_EVENTS } from '../support/sample-events.ts';
import { compareEventsWithState } from './support/compare-state.ts';
import { readDeadLetters } from './support/dead-letters.ts';
import { generateClickstream, seeded } from './support/events.ts';
import {
  createTopics,
  foldUntilOffsets,
  type KafkaStack,
  startKafkaStack,
  testTopics,
} from './support/stack.ts';

let stack: KafkaStack;
let redis: TestRedis;
let dir: string;

beforeAll(async () => {
  [stack, redis] = await Promise.all([startKafkaStack(), startTestRedis()]);
  dir = mkdtempSync(join(tmpdir(), 'croupier-kcat-'));
});
afterAll(async () => {
  await stack?.close();
  await redis?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** One record as kcat sends it: the value (null: a tombstone) and the key (null: none). */
interface KcatRecord {
  value: Buffer | null;
  key: string | null;
  /** A librdkafka producer setting for this record's batch, e.g. `compression.codec=gzip`. */
  setting?: string;
}

let files = 0;

/** Produces one record with kcat to partition 0 of `topic`, waiting for the broker's acknowledgement. */
async function kcatProduce(topic: string, record: KcatRecord): Promise<void> {
  const args = ['-b', stack.broker.brokers[0], '-P', '-t', topic, '-p', '0', '-X', 'acks=all'];
  if (record.setting) args.push('-X', record.setting);
  let result: KcatResult;
  if (record.value === null) {
    // kcat sends no record for an empty file: a null value goes as a line with -Z (an empty key is null too).
    result = await kcat([...args, '-K', ':', '-Z'], `${record.key ?? ''}:\n`);
  } else {
    const file = join(dir, `r${files++}`);
    writeFileSync(file, record.value);
    result = await kcat([...args, ...(record.key === null ? [] : ['-k', record.key]), file]);
  }
  if (result.code !== 0 || result.stderr !== '') throw new Error(`kcat: ${result.stderr}`);
}

/** A value with its wire-format header and the body of `valid` replaced by `body`. */
function withBody(valid: Buffer, body: Buffer): Buffer {
  const out = Buffer.alloc(5 + body.length);
  valid.copy(out, 0, 0, 5);
  body.copy(out, 5);
  return out;
}

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];

describe('records from kcat (librdkafka)', () => {
  it('dead-letters malformed and garbage records with their code and bytes, and counts every good one once', async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`kcat${Date.now()}`);
    await createTopics(stack.admin, topics, 1);
    const { codec } = stack;
    const topic = topics.clickstream;
    const random = seeded(17);
    const garbage = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    const encode = <K extends keyof RecordShapes>(schema: K, value: RecordShapes[K]) =>
      codec.encode(topic, schema, value);

    const good: ClickstreamEvent[] = generateClickstream({ seed: 23, users: 8, items: 6, requests: 40 });
    // Users and items named like Object.prototype's members are ordinary ids.
    for (const [i, name] of PROTOTYPE_NAMES.entries()) {
      good.push({
        type: 'Impression',
        event: {
          ...SAMPLE_EVENTS.Impression,
          eventId: `proto-imp-${i}`,
          requestId: `proto-${i}`,
          userId: name,
          itemId: name,
          slot: 0,
          timestamp: 1_700_000_100_000 + i,
        },
      });
      good.push({
        type: 'Click',
        event: {
          ...SAMPLE_EVENTS.Click,
          eventId: `proto-clk-${i}`,
          requestId: `proto-${i}`,
          userId: name,
          itemId: name,
          slot: 0,
          timestamp: 1_700_000_100_500 + i,
        },
      });
    }
    const click = { ...SAMPLE_EVENTS.Click, timestamp: 1_700_000_200_000 };
    const valid = await encode('Click', click);
    const unknownId = Buffer.from(valid);
    writeHeader(unknownId, 987_654);
    const wrongMagic = Buffer.from(valid);
    wrongMagic[0] = 1;
    const conversion = (value: number) => encode('Conversion', { ...SAMPLE_EVENTS.Conversion, value });
    const impression = (fields: Partial<RecordShapes['Impression']>) =>
      encode('Impression', { ...SAMPLE_EVENTS.Impression, ...fields });
    // A string field whose length prefix claims far more bytes than the record holds.
    const hugeLength = Buffer.from([0x01, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);

    const bad: [KcatRecord, string][] = [
      [{ value: wrongMagic, key: 'u1' }, 'CROUPIER_ERR_SERDE_MAGIC'],
      [{ value: Buffer.from('{"type":"click"}'), key: 'u1' }, 'CROUPIER_ERR_SERDE_MAGIC'],
      [{ value: garbage(64), key: 'u1' }, 'CROUPIER_ERR_SERDE_MAGIC'],
      [{ value: unknownId, key: 'u2' }, 'CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA'],
      [{ value: valid.subarray(0, valid.length - 4), key: 'u2' }, 'CROUPIER_ERR_SERDE_DECODE'],
      [{ value: valid.subarray(0, 5), key: 'u2' }, 'CROUPIER_ERR_SERDE_DECODE'],
      [{ value: Buffer.concat([valid, Buffer.from([0])]), key: 'u2' }, 'CROUPIER_ERR_SERDE_DECODE'],
      [{ value: withBody(valid, hugeLength), key: 'u3' }, 'CROUPIER_ERR_SERDE_DECODE'],
      [{ value: withBody(valid, garbage(200)), key: 'u3' }, 'CROUPIER_ERR_SERDE_DECODE'],
      // Huge values: 900 KB of garbage, with and without a header, and a valid record with a 600 KB id.
      [{ value: garbage(900_000), key: 'u4' }, 'CROUPIER_ERR_SERDE_MAGIC'],
      [{ value: withBody(valid, garbage(900_000)), key: 'u4' }, 'CROUPIER_ERR_SERDE_DECODE'],
      [
        { value: await encode('Click', { ...click, userId: 'u'.repeat(600_000) }), key: 'u4' },
        'CROUPIER_ERR_STREAM_BAD_ID',
      ],
      // Non-finite and out-of-range numbers, as an Avro double can carry them.
      [{ value: await conversion(Number.NaN), key: 'u5' }, 'CROUPIER_ERR_STREAM_OUT_OF_RANGE'],
      [{ value: await conversion(Number.POSITIVE_INFINITY), key: 'u5' }, 'CROUPIER_ERR_STREAM_OUT_OF_RANGE'],
      [{ value: await conversion(Number.NEGATIVE_INFINITY), key: 'u5' }, 'CROUPIER_ERR_STREAM_OUT_OF_RANGE'],
      [{ value: await conversion(1.7e308), key: 'u5' }, 'CROUPIER_ERR_STREAM_OUT_OF_RANGE'],
      [
        { value: await impression({ propensity: Number.NaN }), key: 'u5' },
        'CROUPIER_ERR_STREAM_OUT_OF_RANGE',
      ],
      [
        { value: await impression({ score: Number.POSITIVE_INFINITY }), key: 'u5' },
        'CROUPIER_ERR_STREAM_OUT_OF_RANGE',
      ],
      // Prototype names as keys do not make a bad record good, nor a good one bad.
      [{ value: garbage(32), key: '__proto__' }, 'CROUPIER_ERR_SERDE_MAGIC'],
      [{ value: null, key: 'constructor' }, 'CROUPIER_ERR_STREAM_EMPTY_RECORD'],
      [{ value: null, key: null }, 'CROUPIER_ERR_STREAM_EMPTY_RECORD'],
    ];

    // Good and bad records in one log, bad ones salted between good ones; some good ones in gzip batches.
    type Sent = { record: KcatRecord; code: string | null; event: ClickstreamEvent | null };
    const log: Sent[] = [];
    const queue = [...bad];
    for (const [i, e] of good.entries()) {
      const key = i % 9 === 4 ? PROTOTYPE_NAMES[i % PROTOTYPE_NAMES.length] : e.event.userId;
      const value = await encode(e.type, e.event as never);
      log.push({
        record: { value, key, ...(i % 5 === 1 ? { setting: 'compression.codec=gzip' } : {}) },
        code: null,
        event: e,
      });
      if (i % 3 === 2 && queue.length > 0) {
        const [record, code] = queue.shift()!;
        log.push({ record, code, event: null });
      }
    }
    for (const [record, code] of queue) log.push({ record, code, event: null });
    for (const sent of log) await kcatProduce(topic, sent.record);

    // CDC topics: garbage and a wrong magic byte between good changes; a tombstone is no error there.
    const source = { connector: 'postgresql', db: 'shop', table: 'items', ts_ms: 1, lsn: null };
    const item = (itemId: string) =>
      codec.encode(topics.cdcItems, 'ItemChange', {
        op: 'c',
        before: null,
        after: { itemId, title: itemId, category: 'c', tags: [], available: true, createdAt: 1 },
        ts_ms: 1,
        source,
      });
    const itemLog: Sent[] = [
      { record: { value: await item('__proto__'), key: '__proto__' }, code: null, event: null },
      { record: { value: garbage(100), key: 'x' }, code: 'CROUPIER_ERR_SERDE_MAGIC', event: null },
      {
        record: { value: withBody(valid, garbage(40)), key: 'x' },
        code: 'CROUPIER_ERR_SERDE_DECODE',
        event: null,
      },
      { record: { value: null, key: 'gone' }, code: null, event: null },
      { record: { value: await item('i-ok'), key: 'i-ok' }, code: null, event: null },
    ];
    for (const sent of itemLog) await kcatProduce(topics.cdcItems, sent.record);
    const userValue = await codec.encode(topics.cdcUsers, 'UserChange', SAMPLE_EVENTS.UserChange);
    const userLog: Sent[] = [
      {
        record: { value: userValue.subarray(0, userValue.length - 2), key: 'x' },
        code: 'CROUPIER_ERR_SERDE_DECODE',
        event: null,
      },
      { record: { value: Buffer.from([0, 0, 0]), key: 'x' }, code: 'CROUPIER_ERR_SERDE_MAGIC', event: null },
      { record: { value: userValue, key: 'ok' }, code: null, event: null },
    ];
    for (const sent of userLog) await kcatProduce(topics.cdcUsers, sent.record);

    await foldUntilOffsets(stack, redis.client, prefix, topics, {
      [topic]: [log.length - 1],
      [topics.cdcItems]: [itemLog.length - 1, -1],
      [topics.cdcUsers]: [userLog.length - 1, -1],
    });

    const expected = [
      ...[
        [topic, log],
        [topics.cdcItems, itemLog],
        [topics.cdcUsers, userLog],
      ].flatMap(([t, sent]) =>
        (sent as Sent[]).flatMap((s, offset) => (s.code ? [[t as string, offset, s.code]] : [])),
      ),
    ];
    const letters = await readDeadLetters(stack, topics.deadLetter, expected.length);
    expect(letters.map((l) => [l.topic, l.offset, l.errorCode]).sort()).toEqual(expected.sort());
    const sentOf = (l: DeadLetter) =>
      (l.topic === topic ? log : l.topic === topics.cdcItems ? itemLog : userLog)[l.offset].record;
    for (const letter of letters) {
      const sent = sentOf(letter);
      expect(letter.value ?? null).toEqual(sent.value);
      expect(letter.key?.toString() ?? null).toBe(sent.key);
      expect(letter.errorMessage.length).toBeGreaterThan(10);
    }

    const tp = { topic, partition: 0 };
    const stats = await redis.client.hgetall(partitionKey(prefix, tp, 'stats'));
    const events = log.flatMap((s) => (s.event ? [s.event] : []));
    const { reference, differences } = await compareEventsWithState(redis.client, prefix, tp, events);
    expect(differences).toEqual([]);
    expect(Number(stats.events)).toBe(reference.events);
    const items = await redis.client.hgetall(
      partitionKey(prefix, { topic: topics.cdcItems, partition: 0 }, 'items'),
    );
    expect(Object.keys(items).sort()).toEqual(['__proto__', 'i-ok']);
  }, 180_000);
});
