/**
 * What an archive test needs: the embedded broker and registry (real processes, no mock of Kafka), topics
 * unique to the test, producers of clickstream, CDC and dead-letter records with chosen Kafka timestamps, an
 * archive config on a temporary directory, and an independent reader (DuckDB) of what the archive holds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { ArchiveFileSystem } from '../../../src/archive/fs/archive-fs.ts';
import { epochOf } from '../../../src/archive/layout.ts';
import { endOfFiles, filesOfLastEpoch, resolvePartitionFiles } from '../../../src/archive/recovery.ts';
import { listTopicFiles } from '../../../src/archive/scan.ts';
import { type Config, type ConfigInput, configSchema } from '../../../src/config/index.ts';
import type { ClickstreamEvent } from '../../../streams/schemas/index.ts';
import { generateClickstream } from '../../streams/support/events.ts';
import {
  createTopics,
  type KafkaStack,
  partitionOf,
  startKafkaStack,
  testTopics,
} from '../../streams/support/stack.ts';

export { type KafkaStack, startKafkaStack };

export const HOUR = 3_600_000;
export const T0 = Date.parse('2026-03-01T09:40:00Z');

export async function tempDir(tag: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `archive-${tag}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function archiveTopics(
  stack: KafkaStack,
  tag: string,
  partitions = 3,
): Promise<Config['kafka']['topics']> {
  const topics = testTopics(tag);
  await createTopics(stack.admin, topics, partitions);
  await stack.codec.registerAll(topics);
  return topics;
}

export function archiveConfig(
  stack: KafkaStack,
  topics: Config['kafka']['topics'],
  archive: ConfigInput['archive'],
): Config {
  return configSchema.parse({
    kafka: { brokers: stack.broker.brokers, topics },
    schemaRegistry: { url: stack.registry.url },
    log: { level: 'warn' },
    archive: {
      groupId: `archive-${topics.clickstream}`,
      sessionTimeoutMs: 3000,
      maxWaitMs: 50,
      commitIntervalMs: 200,
      idleRotateMs: 300,
      retryInitialMs: 50,
      retryMaxMs: 500,
      compactIntervalMs: 0,
      ...archive,
    },
  });
}

/** Clickstream events whose timestamps walk from T0 over `hours` hours; each is produced with its own time. */
export function clickstreamOver(count: number, seed: number, hours = 2): ClickstreamEvent[] {
  const events = generateClickstream({ seed, users: 200, items: 50, requests: Math.ceil(count / 3) }).slice(
    0,
    count,
  );
  const step = (hours * HOUR) / events.length;
  events.forEach((e, i) => {
    e.event.timestamp = Math.floor(T0 + i * step);
  });
  return events;
}

/** Produces events (Kafka timestamp = event time, partition by user); returns the last offset per partition. */
export async function produceEvents(
  stack: KafkaStack,
  topic: string,
  events: readonly ClickstreamEvent[],
  partitions: number,
): Promise<void> {
  const messages = [];
  for (const e of events) {
    messages.push({
      key: e.event.userId,
      partition: partitionOf(e.event.userId, partitions),
      timestamp: String(e.event.timestamp),
      value: await stack.codec.encode(topic, e.type, e.event as never),
    });
  }
  for (let i = 0; i < messages.length; i += 2000) {
    await stack.producer.send({ topic, acks: -1, messages: messages.slice(i, i + 2000) });
  }
}

/** Kafka's end offsets (next offset) of every partition of a topic. */
export async function endOffsets(stack: KafkaStack, topic: string): Promise<Map<number, number>> {
  const offsets = await stack.admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
}

/**
 * Waits until the archive's committed files reach Kafka's end offset of every partition of `topics`: the files of
 * log epoch `epoch`, or of each partition's last epoch.
 */
export async function waitForArchive(
  fs: ArchiveFileSystem,
  stack: KafkaStack,
  topics: readonly string[],
  timeoutMs = 90_000,
  epoch?: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let behind = '';
    for (const topic of topics) {
      const files = await listTopicFiles(fs, topic);
      for (const [partition, high] of await endOffsets(stack, topic)) {
        const own = files.filter((f) => f.partition === partition);
        const current = epoch === undefined ? filesOfLastEpoch(own) : own.filter((f) => epochOf(f) === epoch);
        const end = endOfFiles(resolvePartitionFiles(current).files);
        if (end < high - 1) behind += ` ${topic}+${partition}: ${end + 1}/${high}`;
      }
    }
    if (behind === '') return;
    if (Date.now() > deadline) throw new Error(`the archive did not catch up:${behind}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function query(duckdb: DuckDBInstance, sql: string): Promise<Record<string, unknown>[]> {
  const c = await duckdb.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    c.closeSync();
  }
}

/**
 * Offsets archived more than once, or not at all, per partition, read by DuckDB from the files (of log epoch
 * `epoch` only, told by their names, when given).
 */
export async function offsetCensus(
  duckdb: DuckDBInstance,
  glob: string,
  highs: Map<number, number>,
  epoch?: number,
): Promise<{ rows: number; duplicates: number; missing: number }> {
  const ofEpoch =
    epoch === undefined
      ? ''
      : `WHERE coalesce(nullif(regexp_extract(filename, '\\+e(\\d{6})\\+', 1), ''), '0')::INTEGER = ${epoch}`;
  const [dup] = await query(
    duckdb,
    `SELECT count(*)::DOUBLE AS rows, (count(*) - count(DISTINCT (_partition, _offset)))::DOUBLE AS duplicates FROM read_parquet('${glob}', hive_partitioning = true, filename = true) ${ofEpoch}`,
  );
  const expected = [...highs.values()].reduce((s, h) => s + h, 0);
  return {
    rows: dup.rows as number,
    duplicates: dup.duplicates as number,
    missing: expected - ((dup.rows as number) - (dup.duplicates as number)),
  };
}
