/**
 * Compressed record batches, as a Kafka cluster serves them when producers compress: zstd written by kcat
 * (librdkafka), snappy and lz4 written by croupier's own kafkajs client. The embedded broker validates and
 * keeps them compressed; the stream topology folds every record exactly once into Redis and the archive
 * archives every record once.
 *
 * And batches the topology's consumer cannot decode (bytes that say zstd but are not, a codec Kafka does not
 * define, a gzip bomb), written straight into the broker's log, as a broker that does not validate batches, or a
 * disk that corrupted one after the CRC check, would serve them. kafkajs failed the whole fetch on such a batch,
 * again and again, so the partition could not move past it: each is now dead-lettered with its bytes, offsets
 * and reason, counted, and the records around it are folded.
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
import { createKafka } from '../../src/kafka/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { partitionKey } from '../../src/state/layout/index.ts';
import type { ClickstreamEvent } from '../../streams/schemas/index.ts';
import { startStreamTopology } from '../../streams/topology.ts';
import { archiveConfig, offsetCensus, query, waitForArchive } from '../archive/support/archive-stack.ts';
import { buildBatch } from '../broker/support/batches.ts';
import { kcat } from '../broker/support/kcat.ts';
import { RawClient } from '../broker/support/raw-client.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { compareEventsWithState } from './support/compare-state.ts';
import { readDeadLetters } from './support/dead-letters.ts';
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

/** Runs the archive over `topic` into a directory `name` until it holds every offset; returns the directory. */
async function archiveTopic(topics: Config['kafka']['topics'], topic: string, name: string): Promise<string> {
  const archiveDir = join(dir, name);
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
  return archiveDir;
}

/** The compression codec (attribute bits 0-2) of each batch the broker holds for partition 0 of `topic`. */
function storedCodecs(topic: string): number[] {
  const partition = stack.broker.handle.broker.partition(topic, 0)!;
  return partition.entries.map((e) => e.buf!.readInt16BE(21) & 0x07);
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

    const archiveDir = await archiveTopic(topics, topic, 'archive');
    const glob = join(archiveDir, topic, '**', '*.parquet');
    const census = await offsetCensus(duckdb, glob, new Map([[0, events.length]]));
    expect(census).toEqual({ rows: events.length, duplicates: 0, missing: 0 });
  }, 120_000);
});

describe('a batch the consumer cannot decode', () => {
  it('is dead-lettered with its bytes and offsets, counted, the partition moves on past it, and the archive keeps it as one row', async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`undecodable${Date.now()}`);
    await createTopics(stack.admin, topics, 1);
    const topic = topics.clickstream;
    const events = generateClickstream({ seed: 5, users: 4, items: 4, requests: 6 });
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
    const partition = stack.broker.handle.broker.partition(topic, 0)!;
    /** Written straight into the log, as a broker that does not check batches would serve it. */
    const appendUnchecked = (batch: Buffer) => {
      const result = partition.appendBatch(batch, readBatchHeader(batch), Date.now());
      expect(result.errorCode).toBe(0);
      return result.baseOffset;
    };
    const records = [{ value: 'a' }, { value: 'b' }];
    const bad = {
      // The bytes say zstd but are not a zstd frame.
      corrupt: buildBatch({ records, attributes: 4, compress: () => Buffer.from('not a zstd frame') }),
      // Codec 6: Kafka defines 0-4; kafkajs read such bytes as uncompressed records.
      unknownCodec: buildBatch({ records, attributes: 6, compress: (r) => gzipSync(r) }),
      // 64 KB of gzip that inflates to 120 MiB, over the 100 MiB decompression limit.
      bomb: buildBatch({ records, attributes: 1, compress: () => gzipSync(Buffer.alloc(120 * 1024 * 1024)) }),
      // Uncompressed and whole, but a byte of the last value changed after the CRC-32C was computed.
      flipped: (() => {
        const batch = buildBatch({ records });
        batch[batch.length - 2] ^= 0x01;
        return batch;
      })(),
    };
    // Good records before, between and after the bad batches.
    await send(events.slice(0, 4));
    const firstOffsets: Record<string, number> = {};
    let next = 4;
    for (const [name, batch] of Object.entries(bad)) {
      firstOffsets[name] = appendUnchecked(batch);
      await send(events.slice(next, next + 1));
      next += 1;
    }
    await send(events.slice(next));
    const end = Number(partition.nextOffset) - 1;

    const { topology, groupId } = await startTopology(topics, prefix);
    try {
      await waitForOffsets(redis.client, prefix, groupId, topic, [end]);
      // The topology counts a batch as applied once the script's reply is back, a moment after Redis holds the
      // offset this waited for: its lag reaches 0 then, or never (a partition that does not move on).
      const deadline = Date.now() + 10_000;
      while ((topology.metrics().lagByPartition[`${topic}:0`] ?? 0) > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const metrics = topology.metrics();
      expect(metrics.deadLetters).toEqual({ CROUPIER_ERR_STREAM_UNDECODABLE_BATCH: 4 });
      expect(metrics.stalled).toEqual({});
      expect(metrics.lagByPartition[`${topic}:0`] ?? 0).toBe(0);
    } finally {
      await topology.close();
    }
    // Every record around the bad batches is folded, once.
    const { differences } = await compareEventsWithState(
      redis.client,
      prefix,
      { topic, partition: 0 },
      events,
    );
    expect(differences).toEqual([]);

    const letters = await readDeadLetters(stack, topics.deadLetter, 4);
    expect(letters.map((l) => l.offset).sort((a, b) => a - b)).toEqual(
      Object.values(firstOffsets).map((o) => o + 1),
    );
    for (const [name, batch] of Object.entries(bad)) {
      const first = firstOffsets[name]!;
      const letter = letters.find((l) => l.offset === first + 1)!;
      expect(letter, name).toMatchObject({
        topic,
        partition: 0,
        key: null,
        errorCode: 'CROUPIER_ERR_STREAM_UNDECODABLE_BATCH',
      });
      expect(Buffer.from(letter.value!).equals(batch), name).toBe(true);
      expect(letter.errorMessage, name).toContain(`offsets ${first}-${first + 1}`);
    }
    const reasons = Object.fromEntries(
      Object.entries(firstOffsets).map(([name, o]) => [
        name,
        letters.find((l) => l.offset === o + 1)!.errorMessage,
      ]),
    );
    expect(reasons.corrupt).toMatch(/zstd record batch could not be decompressed/);
    expect(reasons.unknownCodec).toMatch(/compression codec 6, which Kafka does not define/);
    expect(reasons.bomb).toMatch(
      /gzip record batch could not be decompressed: .*larger than 104857600 bytes/,
    );
    expect(reasons.flipped).toMatch(
      /CRC-32C mismatch: the batch says [0-9a-f]{8}, its bytes give [0-9a-f]{8}/,
    );

    // The archive keeps every good record once and each bad batch as one row: its bytes, offsets and reason.
    const archiveDir = await archiveTopic(topics, topic, 'archive-undecodable');
    const rows = await query(
      duckdb,
      `SELECT _offset::DOUBLE AS o, _schema AS s, _raw AS raw, _error AS error FROM read_parquet('${join(archiveDir, topic, '**', '*.parquet')}', hive_partitioning = true) ORDER BY _offset`,
    );
    const standIns = Object.values(firstOffsets).map((o) => o + 1);
    expect(rows.map((r) => r.o)).toEqual(
      Array.from({ length: end + 1 }, (_, o) => o).filter((o) => !standIns.includes(o + 1)),
    );
    expect(rows.filter((r) => r.s !== null)).toHaveLength(events.length);
    for (const [name, batch] of Object.entries(bad)) {
      const first = firstOffsets[name]!;
      const row = rows.find((r) => r.o === first + 1)!;
      expect(row.s, name).toBeNull();
      expect(Buffer.from(row.raw as Uint8Array).equals(batch), name).toBe(true);
      expect(row.error, name).toContain(
        `CROUPIER_ERR_ARCHIVE_UNDECODABLE_BATCH: the record batch of offsets ${first}-${first + 1}`,
      );
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
