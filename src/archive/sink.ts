/**
 * The archive sink: consumes croupier's topics in its own consumer group and writes every record, exactly
 * once, into the archive's files. Top to bottom:
 *
 *   kafkajs eachBatch → decode (schema registry; undecodable values are kept raw) → the partition's writer
 *   (file per partition and hour, rotation) → commit (upload, marker, rename into place) → Kafka offsets
 *   committed for lag monitoring only
 *
 * On assignment each partition is paused, its committed end is read from the archive (marker or names, never
 * Kafka's committed offsets), crash leftovers are removed, and the partition is sought to the next offset and
 * resumed (the same pattern as the stream topology's assignment.ts). Writers of an older assignment are fenced
 * first, so a revoked partition never gets another file from this process.
 *
 * Before it is resumed, the log under the partition's files is checked to be the one they were written from
 * (log-identity.ts): by its range, and by the record at the archived end, which the partition is then sought to
 * and compared with before anything is taken. A new log is archived from its start under the next log epoch
 * (log-restart.ts).
 */

import { mkdir } from 'node:fs/promises';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { Consumer, Kafka } from 'kafkajs';
import { readSchemaText } from '../../streams/schemas/index.ts';
import type { Config } from '../config/index.ts';
import { settleWithin } from '../domain/settle.ts';
import { hasCode } from '../errors/index.ts';
import type { ContractBody, DecodedEvent, EventCodec } from '../kafka/index.ts';
import { HEADER_BYTES, MAGIC_BYTE, topicContracts, undecodableBatchOf } from '../kafka/index.ts';
import { LogLimiter } from '../log/log-limiter.ts';
import type { Logger } from '../log/logger.ts';
import { startClusterLease } from './cluster-lease.ts';
import { retrying } from './commit.ts';
import { createAvroBuilder, rowTypeOf } from './format/avro-builder.ts';
import { type AvroSchema, type TopicTable, topicTableOf } from './format/columns.ts';
import { createDuckDbParquetBuilder } from './format/duckdb-parquet-builder.ts';
import type { FileBuilder } from './format/file-builder.ts';
import { createDirectParquetBuilder } from './format/parquet/direct-parquet-builder.ts';
import { type FetchedMessage, type InPlaceBody, packMessages } from './format/parquet/record-frames.ts';
import { startParquetBuilderThread } from './format/parquet/threaded-parquet-builder.ts';
import { type RecordRun, recordRun } from './format/record-run.ts';
import type { ArchiveRecord, DecodedValue } from './format/rows.ts';
import type { ArchiveFileSystem } from './fs/archive-fs.ts';
import { watchArchiveLogEnds } from './log-end-watch.ts';
import { judgeFetchedRecords, judgeLogRange, type LogRange, type RecordFingerprint } from './log-identity.ts';
import { createLogRangeReader, differsAt, endedBefore, startNewEpoch } from './log-restart.ts';
import { ArchiveMetrics, type ArchiveMetricsSnapshot } from './metrics.ts';
import { PartitionWriter } from './partition-writer.ts';
import { progressKeyOf } from './progress.ts';
import { retentionCutoff } from './retention.ts';
import { type RecoveredPartition, recoverPartition } from './scan.ts';

export interface ArchiveSinkOptions {
  config: Readonly<Config>;
  kafka: Kafka;
  codec: Pick<EventCodec, 'decode' | 'decodeSync' | 'contractBody' | 'contractBodySync'>;
  fs: ArchiveFileSystem;
  duckdb: DuckDBInstance;
  schemaText(id: number): Promise<string>;
  logger: Logger;
}

export interface ArchiveSink {
  /** Commits the open files, then leaves the group. */
  close(): Promise<void>;
  metrics(): ArchiveMetricsSnapshot;
}

const keyOf = (topic: string, partition: number) => `${topic}+${partition}`;

/** The tables of croupier's topics, from their registered contracts. */
export function topicTables(topics: Config['kafka']['topics']): Map<string, TopicTable> {
  return new Map(
    topicContracts(topics).map(({ topic, schemaNames }) => [
      topic,
      topicTableOf(
        topic,
        schemaNames.map((name) => JSON.parse(readSchemaText(name)) as AvroSchema),
      ),
    ]),
  );
}

export async function startArchiveSink(options: ArchiveSinkOptions): Promise<ArchiveSink> {
  const { config, codec, fs } = options;
  const a = config.archive;
  const logger = options.logger.child({ component: 'archive' });
  const failureLog = new LogLimiter();
  const metrics = new ArchiveMetrics({
    stallAfterMs: a.stallAfterMs,
    // An open file is committed within its rotation interval of record time (or its idle time when quiet);
    // without interval rotation, within its hour.
    commitWithinMs: Math.max(a.rotateIntervalMs > 0 ? a.rotateIntervalMs : 3_600_000, a.idleRotateMs),
  });
  const progress = metrics.progress;
  const tables = topicTables(config.kafka.topics);
  const rowTypes = new Map([...tables].map(([topic, table]) => [topic, rowTypeOf(table)]));
  const retry = { initialMs: a.retryInitialMs, maxMs: a.retryMaxMs };
  const direct = a.format === 'parquet' && a.compression !== 'zstd';
  const builderThread = direct && a.builderThread ? startParquetBuilderThread(logger) : null;
  let closing = false;
  let generation = 0;
  let writers = new Map<string, PartitionWriter>();
  const committedOffsets = new Map<string, { topic: string; partition: number; offset: string }>();

  function newBuilder(topic: string, stagingPath: string): FileBuilder {
    const table = tables.get(topic)!;
    if (a.format === 'avro') return createAvroBuilder({ table, rowType: rowTypes.get(topic)!, stagingPath });
    if (a.compression !== 'zstd') {
      const options = { table, compression: a.compression };
      return builderThread ? builderThread.builder(options) : createDirectParquetBuilder(options);
    }
    return createDuckDbParquetBuilder({
      duckdb: options.duckdb,
      table,
      compression: a.compression,
      stagingPath,
    });
  }

  await fs.mkdirs('+tmp');
  await mkdir(fs.stagingDir, { recursive: true });
  const consumer: Consumer = options.kafka.consumer({
    groupId: a.groupId,
    sessionTimeout: a.sessionTimeoutMs,
    heartbeatInterval: Math.max(100, Math.floor(a.sessionTimeoutMs / 10)),
    maxWaitTimeInMs: a.maxWaitMs,
    maxBytesPerPartition: a.maxBytesPerPartition,
  });

  // The log's range and the record at the archived end tell a log that started again under the archive's files
  // from the one they were written from (log-identity.ts); a new log is archived under the next log epoch.
  const logRanges = createLogRangeReader(options.kafka, logger);
  // Which cluster's log each partition's files are of; another cluster's live archive is waited for.
  const lease = await startClusterLease({
    fs,
    clusterId: () => logRanges.clusterId(),
    leaseMs: a.clusterLeaseMs,
    logger,
  });
  /** Partitions waiting for another cluster's archive to stop, and their retry timers. */
  const waiting = new Map<string, { topic: string; partition: number; timer: NodeJS.Timeout }>();

  /** Positions the partition again later: another cluster's archive holds it now. */
  function waitForOtherCluster(gen: number, topic: string, partition: number, error: Error): void {
    const key = keyOf(topic, partition);
    metrics.failed(error);
    failureLog.error(logger, key, { err: error, partition: key }, 'archive partition waits');
    // Reported as any partition that does not advance: its log end is read, nothing is taken.
    progress.positioned(progressKeyOf(topic, partition), -1, Date.now());
    const timer = setTimeout(
      () => {
        waiting.delete(key);
        void position(gen, [{ topic, partition }]);
      },
      Math.max(a.retryMaxMs, Math.floor(a.clusterLeaseMs / 3)),
    );
    waiting.set(key, { topic, partition, timer });
  }
  /**
   * The fingerprint each writer waits to compare with the first records fetched (seeking to its offset), and the
   * log range read at positioning.
   */
  const identityChecks = new WeakMap<PartitionWriter, { last: RecordFingerprint; range: LogRange }>();

  /**
   * Positions the partitions after their archived files, in the log epoch the archive follows, or in a new one
   * when the log under the files is new (`differing`: partitions whose log held another record at the archived
   * end, with the log range read then).
   */
  async function position(
    gen: number,
    assigned: { topic: string; partition: number }[],
    differing: ReadonlyMap<string, LogRange> = new Map(),
  ): Promise<void> {
    const current = () => gen === generation && !closing;
    const cutoff = a.retentionDays > 0 ? retentionCutoff(a.retentionDays) : 0;
    // The log ranges, read once per topic for the partitions positioned here.
    const ranges = new Map<string, Promise<Map<number, LogRange> | null>>();
    for (const { topic, partition } of assigned) {
      let recovered: RecoveredPartition;
      try {
        const found = await retrying(
          `recover ${keyOf(topic, partition)}`,
          async () => {
            // Before anything is removed as a leftover: another cluster's live archive may be writing it.
            const held = await lease.heldElsewhere(topic, partition);
            return held ?? (await recoverPartition(fs, topic, partition, logger, cutoff));
          },
          { ...retry, live: current },
          logger,
          metrics,
        );
        if (found instanceof Error) {
          if (current()) waitForOtherCluster(gen, topic, partition, found);
          continue;
        }
        recovered = found;
      } catch {
        return; // superseded by a newer assignment, or closing
      }
      if (!current()) return;
      const key = keyOf(topic, partition);
      let seekTo = recovered.end + 1;
      let check: { last: RecordFingerprint; range: LogRange } | null = null;
      if (recovered.end >= 0) {
        if (!ranges.has(topic)) ranges.set(topic, logRanges.ranges(topic));
        const differed = differing.get(key);
        const range = (await ranges.get(topic))?.get(partition) ?? differed;
        const verdict =
          range === undefined
            ? 'same'
            : differed
              ? 'new'
              : judgeLogRange(recovered.end, recovered.last, range);
        if (range !== undefined && verdict === 'new') {
          const from = recovered;
          const why = differed ? differsAt(from, range) : endedBefore(from, range);
          try {
            recovered = await retrying(
              `start a new log epoch of ${key}`,
              () => startNewEpoch({ fs, topic, partition, recovered: from, range, why, metrics, logger }),
              { ...retry, live: current },
              logger,
              metrics,
            );
          } catch {
            return;
          }
          seekTo = range.low;
          progress.forget(progressKeyOf(topic, partition));
        } else if (verdict === 'compare' && range !== undefined && recovered.last !== null) {
          check = { last: recovered.last, range };
          seekTo = recovered.end;
        }
      }
      if (!current()) return;
      const writer: PartitionWriter = new PartitionWriter({
        topic,
        partition,
        recovered,
        cluster: () => lease.cluster,
        claimant: lease,
        fs,
        format: a.format,
        policy: a,
        newBuilder: (stagingPath) => newBuilder(topic, stagingPath),
        schemaText: options.schemaText,
        retry,
        logger,
        metrics,
        onCommitted: (end) => {
          committedOffsets.set(key, { topic, partition, offset: String(end + 1) });
          progress.committed(progressKeyOf(topic, partition), end, Date.now());
        },
      });
      if (check !== null) identityChecks.set(writer, check);
      writers.set(key, writer);
      progress.positioned(progressKeyOf(topic, partition), recovered.end, Date.now());
      consumer.seek({ topic, partition, offset: String(seekTo) });
      consumer.resume([{ topic, partitions: [partition] }]);
      logger.info(
        { partition: key, epoch: recovered.epoch, next: recovered.end + 1, by: recovered.by },
        'partition positioned after its archived files',
      );
    }
  }

  /**
   * Whether the writer may take the batch: a writer positioned on the record at its archived end compares the
   * record fetched there first; when it differs, the log is new, and the partition is positioned again, in a new
   * log epoch (false).
   */
  function logIdentityHolds(writer: PartitionWriter, messages: readonly FetchedMessage[]): boolean {
    const check = identityChecks.get(writer);
    if (check === undefined) return true;
    const verdict = judgeFetchedRecords(check.last, messages);
    if (verdict === 'wait') return true; // records before the archived end: the writer skips them
    identityChecks.delete(writer);
    if (verdict === 'same') return true;
    const { topic, partition } = writer;
    const key = keyOf(topic, partition);
    writers.delete(key);
    consumer.pause([{ topic, partitions: [partition] }]);
    const gen = generation;
    void writer.fence().then(() => position(gen, [{ topic, partition }], new Map([[key, check.range]])));
    return false;
  }

  /** Drops a partition's writer after a failure and positions the partition again from the archive. */
  function reposition(writer: PartitionWriter, error: unknown): void {
    const key = keyOf(writer.topic, writer.partition);
    if (writers.get(key) !== writer || closing) return;
    metrics.failed(error);
    // Once per partition and 10 s: with the archive's disk full each write fails, and each failure repositions.
    failureLog.error(
      logger,
      key,
      { err: error, partition: key },
      'partition failed; positioning it again from the archive',
    );
    writers.delete(key);
    consumer.pause([{ topic: writer.topic, partitions: [writer.partition] }]);
    const gen = generation;
    void writer.fence().then(() => position(gen, [{ topic: writer.topic, partition: writer.partition }]));
  }

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const byTopic = event.payload.memberAssignment as Record<string, number[]>;
    const gen = ++generation;
    const assigned: { topic: string; partition: number }[] = [];
    for (const [topic, partitions] of Object.entries(byTopic)) {
      consumer.pause([{ topic, partitions }]);
      for (const partition of partitions) assigned.push({ topic, partition });
    }
    progress.keepOnly(new Set(assigned.map((tp) => progressKeyOf(tp.topic, tp.partition))));
    const previous = [...writers.values()];
    writers = new Map();
    for (const w of waiting.values()) clearTimeout(w.timer);
    waiting.clear();
    void Promise.all(previous.map((w) => w.fence())).then(() => position(gen, assigned));
  });

  /** Parquet (every codec but zstd) is written straight from the Avro bodies; zstd and Avro files from decoded fields. */
  const input: FileBuilder['input'] = direct ? 'avro' : 'fields';
  /** The direct Parquet builders (on the thread or not) take batches packed from the fetched messages. */
  const packs = direct;
  type Decoded = Extract<DecodedValue, { recordType: string }>;
  const fieldsValue = (d: DecodedEvent): Decoded => ({
    kind: 'value',
    recordType: d.fullName,
    schemaId: d.schemaId,
    fields: d.value as unknown as Record<string, unknown>,
  });
  /** The value decoded without waiting (its schema is cached), or null: then `decodeAsync` fetches the schema. */
  function decodeSync(value: Buffer): Decoded | null {
    if (input === 'avro') {
      // The codec's contract body is the record's decoded value as the Avro-reading builders take it.
      return codec.contractBodySync(value);
    }
    const d = codec.decodeSync(value);
    return d && fieldsValue(d);
  }
  async function decodeAsync(value: Buffer): Promise<Decoded> {
    return input === 'avro' ? await codec.contractBody(value) : fieldsValue(await codec.decode(value));
  }

  /**
   * A topic's reader of where a value's contract body is when it can be packed as it is (the writer schema is
   * the contract and the record type belongs on the topic), by schema id, filled from the codec on first sight.
   */
  function inPlaceBodies(recordTypes: readonly string[]): (value: Buffer) => InPlaceBody | null {
    const ids = new Map<number, InPlaceBody>();
    return (value) => {
      if (value.length < HEADER_BYTES || value[0] !== MAGIC_BYTE) return null;
      const id = value.readInt32BE(1);
      const known = ids.get(id);
      if (known !== undefined) return known;
      let decoded: ContractBody | null;
      try {
        decoded = codec.contractBodySync(value);
      } catch {
        return null;
      }
      if (decoded === null || decoded.body !== value || decoded.start !== HEADER_BYTES) return null;
      const type = recordTypes.indexOf(decoded.recordType);
      if (type < 0) return null;
      const found = { type, schemaId: id, start: HEADER_BYTES };
      ids.set(id, found);
      return found;
    };
  }
  const inPlaceBodyOf = new Map([...tables].map(([topic, t]) => [topic, inPlaceBodies(t.recordTypes)]));

  /**
   * The batch packed as it is (`packMessages`), after fetching the writer schemas the codec does not hold yet
   * (the first batches of a partition); null when a record needs decoding one by one.
   */
  async function packBatch(topic: string, messages: readonly FetchedMessage[]): Promise<RecordRun | null> {
    const bodyOf = inPlaceBodyOf.get(topic)!;
    // A record batch the consumer could not decode stands in as one record: it is kept by the decoding below.
    if (messages.some((m) => undecodableBatchOf(m) !== null)) return null;
    const run = packMessages(messages, bodyOf);
    if (run !== null) return run;
    const tried = new Set<number>();
    for (const m of messages) {
      const v = m.value;
      if (v === null || v.length < HEADER_BYTES || v[0] !== MAGIC_BYTE) continue;
      const id = v.readInt32BE(1);
      if (tried.has(id) || bodyOf(v) !== null) continue;
      tried.add(id);
      // A schema that cannot be fetched now leaves the batch to the decoding below, which retries.
      await codec.contractBody(v).catch(() => undefined);
    }
    return tried.size > 0 ? packMessages(messages, bodyOf) : null;
  }

  async function decodeBatch(
    topic: string,
    messages: readonly { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null }[],
  ): Promise<ArchiveRecord[]> {
    const table = tables.get(topic)!;
    const out: ArchiveRecord[] = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      let decoded: DecodedValue;
      const broken = undecodableBatchOf(m);
      if (broken !== null)
        decoded = {
          kind: 'undecodable',
          error: `CROUPIER_ERR_ARCHIVE_UNDECODABLE_BATCH: the record batch of offsets ${broken.firstOffset}-${broken.lastOffset} could not be decoded (${broken.reason}); _raw holds the whole batch, kept at its last offset`,
        };
      else if (m.value === null || m.value.length === 0) decoded = { kind: 'tombstone' };
      else {
        try {
          const value = decodeSync(m.value) ?? (await decodeAsync(m.value));
          decoded = table.recordTypes.includes(value.recordType)
            ? value
            : {
                kind: 'undecodable',
                error: `record type ${value.recordType} does not belong on topic ${topic}`,
              };
        } catch (error) {
          if (hasCode(error, 'CROUPIER_ERR_REGISTRY_UNAVAILABLE')) throw error;
          decoded = {
            kind: 'undecodable',
            error: `${(error as { code?: string }).code ?? 'Error'}: ${(error as Error).message}`,
          };
        }
      }
      out[i] = {
        offset: Number(m.offset),
        timestamp: Number(m.timestamp),
        key: m.key,
        value: m.value,
        decoded,
      };
    }
    return out;
  }

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...tables.keys()], fromBeginning: true });
  } catch (error) {
    // A start that fails leaves no lease behind to hold the directory against another cluster's archive.
    await lease.close();
    await logRanges.close();
    throw error;
  }
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: a.partitionsConcurrently,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isStale }) => {
      const writer = writers.get(keyOf(batch.topic, batch.partition));
      if (!writer?.live || isStale() || batch.messages.length === 0) return;
      if (!logIdentityHolds(writer, batch.messages)) return;
      metrics.fetched();
      const beat = () => void heartbeat().catch(() => undefined);
      try {
        // Values whose schema is known and whose body is the contract's are packed as they are; any other batch
        // is decoded record by record (fetching schemas, resolving, keeping what cannot be read as undecodable).
        const records =
          (packs ? await packBatch(batch.topic, batch.messages) : null) ??
          recordRun(
            await retrying(
              `decode a batch of ${keyOf(batch.topic, batch.partition)}`,
              () => decodeBatch(batch.topic, batch.messages),
              { ...retry, live: () => writer.live && !closing, onRetry: beat },
              logger,
              metrics,
            ),
          );
        await writer.run(() => writer.append(records, beat));
      } catch (error) {
        reposition(writer, error);
        return;
      }
      if (!writer.live) return;
      resolveOffset(batch.lastOffset());
      const now = Date.now();
      const progressKey = progressKeyOf(batch.topic, batch.partition);
      progress.taken(progressKey, Number(batch.lastOffset()), now);
      progress.logEnd(progressKey, Number(batch.highWatermark), now);
    },
  });

  async function commitOffsets(): Promise<void> {
    if (committedOffsets.size === 0) return;
    const offsets = [...committedOffsets.values()];
    committedOffsets.clear();
    await consumer.commitOffsets(offsets).catch((error: unknown) => {
      logger.debug(
        { err: error },
        'offset commit for lag monitoring failed; the archive files hold the truth',
      );
    });
  }
  const idleTimer = setInterval(
    () => {
      const now = Date.now();
      for (const writer of writers.values()) {
        writer.run(() => writer.rotateIfIdle(now)).catch((error: unknown) => reposition(writer, error));
      }
    },
    Math.max(50, Math.min(1000, Math.floor(a.idleRotateMs / 4))),
  );
  const commitTimer = setInterval(() => void commitOffsets(), a.commitIntervalMs);
  const logEnds = watchArchiveLogEnds(
    options.kafka,
    consumer,
    () => [...writers.values(), ...waiting.values()],
    metrics,
    logger,
    a.commitIntervalMs,
  );
  const logTimer = setInterval(() => {
    const m = metrics.snapshot(true);
    logger.info(
      {
        recordsPerSecond: m.recordsPerSecond,
        records: m.records,
        files: m.files,
        bytes: m.bytes,
        failures: m.failures,
        lastError: m.lastError,
        ...(Object.keys(m.stalled).length > 0 ? { stalled: m.stalled, lag: m.lag } : {}),
      },
      Object.keys(m.stalled).length > 0 ? 'archive progress: partitions not advancing' : 'archive progress',
    );
  }, a.logIntervalMs);
  logger.info({ groupId: a.groupId, archive: fs.location, format: a.format }, 'archive started');

  return {
    async close() {
      if (closing) return;
      clearInterval(idleTimer);
      clearInterval(commitTimer);
      clearInterval(logTimer);
      for (const w of waiting.values()) clearTimeout(w.timer);
      waiting.clear();
      await logEnds.stop();
      await lease.close();
      await logRanges.close();
      // Still a member of the group: commit what is open, so nothing waits in staging, then leave.
      for (const [topic, partitions] of Object.entries(groupByTopic(writers)))
        consumer.pause([{ topic, partitions }]);
      await Promise.all(
        [...writers.values()].map((w) =>
          w
            .run(() => w.flush())
            .catch((error: unknown) => logger.warn({ err: error }, 'could not commit an open file on close')),
        ),
      );
      closing = true;
      await Promise.all([...writers.values()].map((w) => w.fence()));
      // Kafka hears of the commit for lag monitoring only, and the group of the consumer leaving: with the broker
      // gone each retries for many seconds, so the stop waits a little for them, not for their retries.
      await settleWithin(commitOffsets());
      await settleWithin(consumer.disconnect());
      await builderThread?.close();
      logger.info(metrics.snapshot(), 'archive stopped');
    },
    metrics: () => metrics.snapshot(),
  };
}

function groupByTopic(writers: Map<string, PartitionWriter>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const w of writers.values()) out[w.topic] = [...(out[w.topic] ?? []), w.partition];
  return out;
}
