/**
 * Compressed record batches, as a Kafka cluster serves them when producers compress: zstd written by kcat
 * (librdkafka), snappy and lz4 written by croupier's own kafkajs client. The embedded broker validates and
 * keeps them compressed; the stream topology folds every record exactly once into Redis and the archive
 * archives every record once.
 *
 * And a batch the topology's consumer cannot decode: its bytes say zstd but are not (written straight into the
 * broker's log, as a broker that does not validate batches, or a disk that corrupted one after the CRC check,
 * would serve it). kafkajs fails the whole fetch on it, again and again, so the partition cannot move past it;
 * it must not stall silently: its lag counts the records behind it, it shows as stalled with the reason on the
 * topology's metrics, and /readyz says so.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DuckDBInstance } from '@duckdb/node-api';
import { CompressionTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { openDuckDb, startArchive } from '../../src/archive/index.ts';
import { ApiKey } from '../../src/broker/protocol/api-keys.ts';
import type { Encoder } from '../../src/broker/protocol/encoder.ts';
import { ErrorCode } from '../../src/broker/protocol/error-codes.ts';
import { readBatchHeader } from '../../src/broker/protocol/record-batch.ts';
import type { Config, ConfigInput } from '../../src/config/index.ts';
import { stateHealthReasons } from '../../src/gateway/state-health.ts';
import { createKafka } from '../../src/kafka/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { partitionKey } from '../../src/state/layout/index.ts';
import type { ClickstreamEvent } from '../../streams/schemas/index.ts';
import { startStreamTopology } from '../../streams/topology.ts';
import { archiveConfig, offsetCensus, waitForArchive } from '../archive/support/archive-stack.ts';
import { buildBatch } from '../broker/support/batches.ts';
import { kcat } from '../broker/support/kcat.ts';
import { RawClient } from '../broker/support/raw-client.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { compareEventsWithState } from './support/compare-state.ts';
import { generateClickstream } from './support/events.ts';
import {
  createTopics,
  type KafkaStack,
  startKafkaStack,
  testTopics,
  topologyConfig,
  waitForOffsets,
} from './support/stack.ts';

let stack: KafkaStack;
let redis: TestRedis;
let duckdb: DuckDBInstance;
let dir: string;

beforeAll(async () => {
  [stack, redis, duckdb] = await Promise.all([startKafkaStack(), startTestRedis(), openDuckDb()]);
  dir = mkdtempSync(join(tmpdir(), 'croupier-compressed-'));
});
afterAll(async () => {
  duckdb?.closeSync();
  await stack?.close();
  await redis?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The stream topology over `topics` on croupier's own kafkajs client (createKafka), as `croupier start` runs it. */
async function startTopology(
  topics: Config['kafka']['topics'],
  prefix: string,
  stream: NonNullable<ConfigInput['stream']> = {},
) {
  const config = topologyConfig({ kafka: { topics }, redis: { keyPrefix: prefix }, stream });
  const topology = await startStreamTopology({
    config,
    kafka: createKafka(config.kafka, stack.broker.brokers),
    codec: stack.codec,
    redis: redis.client,
    logger: silentLogger(),
  });
  return { topology, groupId: config.stream.groupId };
}

/** The compression codec (attribute bits 0-2) of each batch the broker holds for partition 0 of `topic`. */
function storedCodecs(topic: string): number[] {
  const partition = stack.broker.handle.broker.partition(topic, 0)!;
  return partition.entries.map((e) => e.buf!.readInt16BE(21) & 0x07);
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('compressed record batches', () => {
  it('folds every record of zstd, snappy and lz4 batches once into Redis, and the archive keeps each once', async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`cz${Date.now()}`);
    await createTopics(stack.admin, topics, 1);
    const topic = topics.clickstream;
    const events: ClickstreamEvent[] = generateClickstream({ seed: 41, users: 12, items: 8, requests: 90 });
    const encoded = await Promise.all(events.map((e) => stack.codec.encode(topic, e.type, e.event as never)));
    const third = Math.ceil(events.length / 3);

    // zstd from librdkafka: one file per record, lingering so that they go as one compressed batch.
    const files = encoded.slice(0, third).map((value, i) => {
      const file = join(dir, `z${i}`);
      writeFileSync(file, value);
      return file;
    });
    const zstd = await kcat([
      '-b',
      stack.broker.brokers[0]!,
      '-P',
      '-t',
      topic,
      '-p',
      '0',
      '-z',
      'zstd',
      '-X',
      'linger.ms=200',
      '-X',
      'acks=all',
      ...files,
    ]);
    expect(zstd.code, zstd.stderr).toBe(0);

    // snappy and lz4 from croupier's kafkajs client.
    const kafka = createKafka(topologyConfig({}).kafka, stack.broker.brokers);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    for (const [compression, slice] of [
      [CompressionTypes.Snappy, encoded.slice(third, 2 * third)],
      [CompressionTypes.LZ4, encoded.slice(2 * third)],
    ] as const) {
      await producer.send({
        topic,
        acks: -1,
        compression,
        messages: slice.map((value) => ({ partition: 0, value })),
      });
    }
    await producer.disconnect();
    expect(new Set(storedCodecs(topic))).toEqual(new Set([4, 2, 3]));

    const { topology, groupId } = await startTopology(topics, prefix);
    try {
      await waitForOffsets(redis.client, prefix, groupId, topic, [events.length - 1]);
      expect(topology.metrics().deadLetters).toEqual({});
    } finally {
      await topology.close();
    }
    const tp = { topic, partition: 0 };
    const { reference, differences } = await compareEventsWithState(redis.client, prefix, tp, events);
    expect(differences).toEqual([]);
    const stats = await redis.client.hgetall(partitionKey(prefix, tp, 'stats'));
    expect(Number(stats.events)).toBe(reference.events);

    const archiveDir = join(dir, 'archive');
    const archive = await startArchive(
      archiveConfig(stack, topics, { uri: archiveDir, flushRecords: 1000 }),
      { brokers: stack.broker.brokers, registryUrl: stack.registry.url },
      silentLogger(),
    );
    try {
      await waitForArchive(createLocalFileSystem(archiveDir), stack, [topic]);
    } finally {
      await archive.close();
    }
    const glob = join(archiveDir, topic, '**', '*.parquet');
    const census = await offsetCensus(duckdb, glob, new Map([[0, events.length]]));
    expect(census).toEqual({ rows: events.length, duplicates: 0, missing: 0 });
  }, 120_000);
});

describe('a batch the consumer cannot decode', () => {
  it('is reported: the partition shows as stalled with its lag and the reason, on metrics and /readyz', async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`undecodable${Date.now()}`);
    await createTopics(stack.admin, topics, 1);
    const topic = topics.clickstream;
    const events = generateClickstream({ seed: 5, users: 4, items: 4, requests: 4 });
    const send = async (slice: typeof events) =>
      stack.producer.send({
        topic,
        acks: -1,
        messages: await Promise.all(
          slice.map(async (e) => ({
            partition: 0,
            value: await stack.codec.encode(topic, e.type, e.event as never),
          })),
        ),
      });
    await send(events.slice(0, 5));
    const { topology, groupId } = await startTopology(topics, prefix, {
      stallAfterMs: 500,
      stateCheckMs: 200,
    });
    try {
      await waitForOffsets(redis.client, prefix, groupId, topic, [4]);
      const bad = buildBatch({
        records: [{ value: 'a' }, { value: 'b' }],
        attributes: 4,
        compress: () => Buffer.from('these bytes are not a zstd frame'),
      });
      const partition = stack.broker.handle.broker.partition(topic, 0)!;
      expect(partition.appendBatch(bad, readBatchHeader(bad), Date.now()).errorCode).toBe(0);
      await send(events.slice(5, 8));
      // The two records of the bad batch and the three after it wait.
      const key = `${topic}:0`;
      const metrics = await until('the stall and its reason', () => {
        const m = topology.metrics();
        return m.stalled[key] !== undefined && m.lastError?.includes('zstd') ? m : undefined;
      });
      expect(metrics.lagByPartition[key]).toBe(5);
      expect(metrics.lastError).toMatch(/zstd record batch could not be decompressed/);
      const reasons = stateHealthReasons({
        stream: () => ({ running: true, metrics, ageMs: 0, restarts: 0 }),
      });
      expect(reasons.join('\n')).toMatch(
        new RegExp(
          `stream partition ${key} has not advanced for \\d+ s \\(5 records waiting; last error: .*zstd`,
        ),
      );
    } finally {
      await topology.close();
    }
  }, 120_000);
});

describe('a batch of very many records', () => {
  it('is folded whole: kafkajs gathered a fetch with push(...records) and stopped on the stack overflow', async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`many${Date.now()}`);
    await createTopics(stack.admin, topics, 1);
    // 300,000 deletions of one user (key 'gone', no value), 8 bytes each: 2.4 MB, 20 KB gzipped.
    const count = 300_000;
    const packed = buildBatch({
      records: Array.from({ length: count }, () => ({ key: 'gone', value: null })),
      attributes: 1,
      compress: (records) => gzipSync(records),
    });
    const client = await RawClient.connect(stack.broker.brokers[0]!);
    try {
      const response = await client.request(ApiKey.Produce, 3, (e: Encoder) => {
        e.nullableString(null).int16(-1).int32(10_000);
        e.int32(1).string(topics.cdcUsers).int32(1).int32(0).nullableBytes(packed);
      });
      response.int32();
      response.string();
      response.int32();
      response.int32();
      expect(response.int16()).toBe(ErrorCode.NONE);
    } finally {
      client.close();
    }

    const { topology, groupId } = await startTopology(topics, prefix);
    try {
      await waitForOffsets(redis.client, prefix, groupId, topics.cdcUsers, [count - 1, -1]);
      expect(topology.metrics().deadLetters).toEqual({});
    } finally {
      await topology.close();
    }
  }, 120_000);
});
