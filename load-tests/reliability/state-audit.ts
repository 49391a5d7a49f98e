/**
 * The end of a reliability run: waits until the topology has applied everything in the clickstream topic, reads
 * the topic back from its first offset, folds it with the tests' reference fold (one event at a time, the most
 * direct way) and lists every Redis counter that differs. No difference means nothing was lost or counted twice
 * between Kafka and Redis, whatever was killed on the way.
 *
 * The reference takes an event's time into the decayed counts as the topology's fold does, no later than
 * `stream.decayMaxFutureSeconds` after the topology's clock when it folded the event. That clock is not in the
 * log: the audit takes the record's Kafka timestamp for it (the clock of the gateway that wrote the record, which
 * is the topology's when both run on one host), so an event stamped ahead of its record (a producer that sets an
 * event time from another clock) is limited as the topology limited it.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Config } from '../../src/config/index.ts';
import { CroupierError, hasCode } from '../../src/errors/index.ts';
import type { EventCodec } from '../../src/kafka/index.ts';
import { partitionKey } from '../../src/state/layout/index.ts';
import { readUnregistered } from '../../streams/operators/unregistered-schema.ts';
import type { RawRecord } from '../../streams/records.ts';
import type { ClickstreamEvent, SchemaName } from '../../streams/schemas/index.ts';
import { validateRecord } from '../../streams/validate/events.ts';
import { compareWithReference } from '../../test/streams/support/compare-state.ts';
import { emptyReference, referenceApply } from '../../test/streams/support/reference-fold.ts';

export interface AuditResult {
  /**
   * Clickstream records in Kafka that the topology folds (`skipped` apart), and the impressions (each shown item of
   * a Carousel counts) and clicks in them.
   */
  records: number;
  impressions: number;
  clicks: number;
  /**
   * Impressions and clicks that repeat one already in the topic (same request, item and kind): sent twice on their
   * way into Kafka (a retry across a broker kill). Redis folds them as Kafka holds them.
   */
  repeated: number;
  /**
   * Records the topology dead-letters and folds nothing of: values it cannot decode (garbage, an unknown schema id)
   * or refuses (out of range, a bad id). The reference leaves them out too.
   */
  skipped: number;
  /** Every counter equals the reference fold of the topic. */
  exact: boolean;
  /** The first differences found (at most 20), and how many in all. */
  differences: string[];
  differenceCount: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Last offset of each partition of `topic` (-1: empty). */
async function logEnds(kafka: Kafka, topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const ends: number[] = [];
    for (const o of offsets) ends[o.partition] = Number(o.high) - 1;
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/** Waits until Redis holds the last offset of every partition, with no rebuild in progress. */
async function waitUntilApplied(
  redis: Redis | Cluster,
  config: Readonly<Config>,
  ends: readonly number[],
  timeoutMs: number,
): Promise<void> {
  const topic = config.kafka.topics.clickstream;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(
      ends.map(async (_, partition) => {
        const tp = { topic, partition };
        const [offset, rebuild] = await Promise.all([
          redis.hget(partitionKey(config.redis.keyPrefix, tp, 'offsets'), config.stream.groupId),
          redis.hget(partitionKey(config.redis.keyPrefix, tp, 'marker'), 'rebuildUntil'),
        ]);
        return Number(offset ?? -1) >= ends[partition] && rebuild === null;
      }),
    ).catch(() => [false]);
    if (states.every(Boolean)) return;
    if (Date.now() > deadline)
      throw new Error(`the topology did not apply the whole clickstream in ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** A record of the clickstream topic: its event and its Kafka timestamp (ms). */
interface LoggedEvent {
  event: ClickstreamEvent;
  timestamp: number;
}

/** Every record of `topic` up to `ends`, decoded, per partition in offset order. */
async function readTopic(
  kafka: Kafka,
  codec: AuditCodec,
  topic: string,
  ends: readonly number[],
): Promise<{ logged: LoggedEvent[][]; skipped: number }> {
  const byPartition: ({ offset: number } & LoggedEvent)[][] = ends.map(() => []);
  const skippedOffsets = new Set<string>();
  const remaining = new Set(ends.map((end, p) => (end >= 0 ? p : -1)).filter((p) => p >= 0));
  if (remaining.size === 0) return { logged: ends.map(() => []), skipped: 0 };
  const consumer = kafka.consumer({ groupId: `audit-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset > ends[batch.partition]) continue;
          if (offset === ends[batch.partition]) remaining.delete(batch.partition);
          if (m.value === null) continue;
          const decoded = await decodeOrNull(codec, {
            offset,
            key: m.key,
            value: m.value,
            timestamp: Number(m.timestamp),
          });
          // What the topology dead-letters, it folds nothing of: neither does the reference.
          if (
            decoded === null ||
            validateRecord('clickstream', decoded.schemaName, decoded.value) !== undefined
          ) {
            skippedOffsets.add(`${batch.partition}:${offset}`);
            continue;
          }
          byPartition[batch.partition].push({
            offset,
            event: { type: decoded.schemaName, event: decoded.value } as ClickstreamEvent,
            timestamp: Number(m.timestamp),
          });
        }
        if (remaining.size === 0) finish();
      },
    });
    await done;
  } finally {
    await consumer.disconnect();
  }
  const logged = byPartition.map((records) => {
    // A rebalance can deliver a batch twice: keep each offset once.
    const seen = new Map<number, LoggedEvent>();
    for (const r of records) seen.set(r.offset, { event: r.event, timestamp: r.timestamp });
    return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
  });
  return { logged, skipped: skippedOffsets.size };
}

/**
 * The decoded record, or null when the topology could not decode it either (it dead-letters such a record). A
 * record whose schema id the registry no longer has (its subject deleted with `?permanent=true` while the gateway
 * still wrote with it) is read by its contract as the topology reads it. A registry that does not answer is
 * thrown: the batch is read again, as the topology waits for it.
 */
async function decodeOrNull(
  codec: AuditCodec,
  raw: RawRecord,
): Promise<{ schemaName: SchemaName; value: unknown } | null> {
  try {
    return await codec.decode(raw.value!);
  } catch (error) {
    if (hasCode(error, 'CROUPIER_ERR_REGISTRY_UNAVAILABLE')) throw error;
    if (!(error instanceof CroupierError) || error.details?.missing !== true) return null;
    const reading = readUnregistered(codec, 'clickstream', raw);
    return reading.ok ? reading : null;
  }
}

/** What the audit decodes with: the event codec, as the topology has it. */
export type AuditCodec = Pick<EventCodec, 'decode' | 'decodeAsContract'>;

export async function auditClickstream(options: {
  kafka: Kafka;
  codec: AuditCodec;
  redis: Redis | Cluster;
  config: Readonly<Config>;
  timeoutMs?: number;
}): Promise<AuditResult> {
  const { kafka, codec, redis, config } = options;
  const topic = config.kafka.topics.clickstream;
  const ends = await logEnds(kafka, topic);
  await waitUntilApplied(redis, config, ends, options.timeoutMs ?? 300_000);
  const { logged: byPartition, skipped } = await readTopic(kafka, codec, topic, ends);
  const differences: string[] = [];
  let records = 0;
  let impressions = 0;
  let clicks = 0;
  let repeated = 0;
  const seen = new Set<string>();
  const maxFutureMs = config.stream.decayMaxFutureSeconds * 1000;
  for (const [partition, logged] of byPartition.entries()) {
    const ref = emptyReference();
    const shown = new Map<string, string>();
    for (const { event: e, timestamp } of logged) {
      referenceApply(ref, shown, e, config.stream.recentClicks, undefined, { now: timestamp, maxFutureMs });
      records++;
      if (e.type === 'Carousel') {
        // Each shown item is an impression; a carousel sent twice repeats all of them.
        impressions += e.event.items.length;
        const key = `Carousel|${e.event.requestId}`;
        if (seen.has(key)) repeated += e.event.items.length;
        else seen.add(key);
      } else if (e.type === 'Impression') impressions++;
      else if (e.type === 'Click') clicks++;
      if (e.type === 'Impression' || e.type === 'Click') {
        const key = `${e.type}|${e.event.requestId}|${e.event.itemId}`;
        if (seen.has(key)) repeated++;
        else seen.add(key);
      }
    }
    differences.push(
      ...(await compareWithReference(redis, config.redis.keyPrefix, { topic, partition }, ref, {
        halfLifeMs: config.stream.decayHalfLifeSeconds * 1000,
        groupId: config.stream.groupId,
      })),
    );
  }
  return {
    records,
    impressions,
    clicks,
    repeated,
    skipped,
    exact: differences.length === 0,
    differences: differences.slice(0, 20),
    differenceCount: differences.length,
  };
}
