/**
 * The stream topology: consumes the clickstream and the CDC topics and folds every record into Redis exactly
 * once. Per partition batch, top to bottom:
 *
 *   kafkajs eachBatch → split into micro-batches → decode (schema registry) → validate (refused records go to
 *   the dead-letter topic) → route by topic role → fold + apply (one Redis script per micro-batch: offset check,
 *   state, offset, change feed) → commit to Kafka (for lag monitoring only)
 *
 * Micro-batches are bounded in count (`stream.maxBatchRecords`, a larger fetch is split) and in time (a fetch
 * waits at most `stream.maxBatchMs` for records). Per-partition order is kept (one batch of a partition at a
 * time), partitions proceed in parallel. eachBatch moves the fetch position on and resolves once the previous
 * batch of its partition is applied, so the next fetch overlaps the current apply while a slow Redis still
 * holds fetching back (one batch queued per partition). What is applied is what Redis holds: a batch fetched
 * before a seek back or a rebalance is dropped and read again from there. An unavailable Redis or
 * registry makes the partition wait with backoff and go on from where Redis stands. On assignment each
 * partition is positioned at the offset Redis holds (assignment.ts).
 */
import { type Kafka, Partitioners } from 'kafkajs';
import { concatMap, defer, EMPTY, firstValueFrom, map, type Observable, of, Subject, takeWhile } from 'rxjs';
import { catchError, finalize } from 'rxjs/operators';
import type { Config } from '../src/config/index.ts';
import type { EventCodec } from '../src/kafka/index.ts';
import type { Logger } from '../src/log/logger.ts';
import { createStateWriter, type RedisClient } from '../src/state/writer/index.ts';
import { type PartitionCursor, partitionKeyOf, trackAssignments } from './assignment.ts';
import { examinationTable } from './fold/position-bias.ts';
import { APPLY_FAILED, applyIsolatingFailures, type IsolationContext } from './isolate-failure.ts';
import { StreamMetrics, type StreamMetricsSnapshot } from './metrics.ts';
import { concatPerKey } from './operators/concat-per-key.ts';
import { decodeRecords } from './operators/decode-records.ts';
import { produceDeadLetters } from './operators/produce-dead-letters.ts';
import { type BackoffOptions, retryWithBackoff } from './operators/retry-with-backoff.ts';
import { splitBatch } from './operators/split-batch.ts';
import { validateRecords } from './operators/validate-records.ts';
import type { PartitionChunk, RawRecord, RefusedRecord } from './records.ts';
import type { TopicRole } from './validate/events.ts';

export interface StreamTopologyOptions {
  config: Readonly<Config>;
  kafka: Kafka;
  codec: Pick<EventCodec, 'decode' | 'encode'> & Partial<Pick<EventCodec, 'decodeSync'>>;
  /** A Redis or Redis Cluster client; the caller owns it (the topology never closes it). */
  redis: RedisClient;
  logger: Logger;
}

export interface StreamTopology {
  /** Stops consuming (the batch in flight finishes or is abandoned), commits the last offsets, disconnects. */
  close(): Promise<void>;
  metrics(): StreamMetricsSnapshot;
}

/**
 * One kafkajs batch on its way through the topology. `started` resolves the eachBatch that queued it, once the
 * batch before it of the same partition is applied: kafkajs then fetches the next batches while this one is
 * applied (one batch per partition queued at most). `done` when it is applied or dropped.
 */
interface BatchJob {
  key: string;
  cursor: PartitionCursor;
  /** The cursor's epoch when fetched; a seek back since then drops the job. */
  epoch: number;
  role: TopicRole;
  raw: RawRecord[];
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  started(): void;
  done(): void;
}

export async function startStreamTopology(options: StreamTopologyOptions): Promise<StreamTopology> {
  const { config, kafka, codec, redis } = options;
  const logger = options.logger.child({ component: 'stream' });
  const s = config.stream;
  const topics = config.kafka.topics;
  const roles = new Map<string, TopicRole>([
    [topics.clickstream, 'clickstream'],
    [topics.cdcItems, 'items'],
    [topics.cdcUsers, 'users'],
  ]);
  const examination = examinationTable(s.positionBias);
  const fold = { halfLifeMs: s.decayHalfLifeSeconds * 1000, recentClicks: s.recentClicks, examination };
  const backoff: BackoffOptions = { initialMs: s.retryInitialMs, maxMs: s.retryMaxMs };
  let closing = false;

  const store = createStateWriter({
    redis,
    keyPrefix: config.redis.keyPrefix,
    groupId: s.groupId,
    changeFeedMaxLen: s.changeFeedMaxLen,
    changeFeedMaxAgeMs: s.changeFeedMaxAgeSeconds * 1000,
    recentClicks: s.recentClicks,
    halfLifeMs: fold.halfLifeMs,
    requestTtlSeconds: s.requestTtlSeconds,
    examination,
  });
  const metrics = new StreamMetrics(store.calls, s.stallAfterMs);
  const waitingFor = (what: string, live: () => boolean, job?: BatchJob): BackoffOptions => ({
    ...backoff,
    shouldRetry: () => live(),
    onRetry: (error, attempt, waitMs) => {
      metrics.retries++;
      metrics.lastError = (error as Error).message;
      logger.warn({ err: error, attempt, waitMs, partition: job?.key }, `${what} failed; retrying`);
      job?.heartbeat().catch(() => undefined);
    },
  });
  await firstValueFrom(
    defer(() => store.init()).pipe(retryWithBackoff(waitingFor('loading the state scripts', () => !closing))),
  );

  const producer = kafka.producer({
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer = kafka.consumer({
    groupId: s.groupId,
    sessionTimeout: s.sessionTimeoutMs,
    heartbeatInterval: Math.max(100, Math.floor(s.sessionTimeoutMs / 10)),
    maxWaitTimeInMs: s.maxBatchMs,
    maxBytesPerPartition: s.maxBytesPerPartition,
  });
  await producer.connect();
  await consumer.connect();
  const assignments = trackAssignments({
    consumer,
    store,
    metrics,
    logger,
    backoff,
    checkEveryMs: s.stateCheckMs,
  });

  /** Dead letters keep the original bytes and position; they are written before the batch's state. */
  async function sendDeadLetters(
    chunk: PartitionChunk & { refused: readonly RefusedRecord[] },
  ): Promise<void> {
    const now = Date.now();
    const messages = await Promise.all(
      chunk.refused.map(async (r) => ({
        key: r.raw.key,
        value: await codec.encode(topics.deadLetter, 'DeadLetter', {
          topic: chunk.tp.topic,
          partition: chunk.tp.partition,
          offset: r.raw.offset,
          key: r.raw.key,
          value: r.raw.value,
          errorCode: r.code,
          errorMessage: r.message,
          timestamp: now,
        }),
      })),
    );
    await producer.send({ topic: topics.deadLetter, acks: -1, messages });
    const key = partitionKeyOf(chunk.tp.topic, chunk.tp.partition);
    for (const r of chunk.refused) metrics.deadLettered(key, r.raw.offset, r.code);
  }

  const pendingCommits = new Map<string, { topic: string; partition: number; offset: string }>();
  const live = (job: BatchJob) => () =>
    !closing &&
    job.isRunning() &&
    job.cursor.epoch === job.epoch &&
    assignments.cursor(job.cursor.tp.topic, job.cursor.tp.partition) === job.cursor;
  const inFlight = new Set<Promise<void>>();

  function processBatch(job: BatchJob): Observable<unknown> {
    const { tp } = job.cursor;
    job.started();
    // Fetched before a seek back or a rebalance: those records are read again from where Redis stands.
    if (!live(job)()) {
      job.done();
      return EMPTY;
    }
    return of(job.raw).pipe(
      splitBatch<RawRecord>(s.maxBatchRecords),
      map((raw): PartitionChunk => ({ tp, role: job.role, raw })),
      concatMap((chunk) =>
        of(chunk).pipe(
          decodeRecords(codec),
          validateRecords(),
          produceDeadLetters(sendDeadLetters),
          retryWithBackoff(waitingFor('decoding or dead-lettering', live(job), job)),
        ),
      ),
      concatMap((chunk) =>
        defer(() => {
          const isolation: IsolationContext = {
            store,
            tp,
            role: chunk.role,
            fold,
            deadLetter: async (offset, reason) => {
              const raw = chunk.raw.find((r) => r.offset === offset);
              if (raw === undefined) return;
              await sendDeadLetters({ ...chunk, refused: [{ raw, code: APPLY_FAILED, message: reason }] });
            },
            onIsolated: (offset, reason) =>
              logger.error(
                { partition: job.key, offset, reason },
                'record dead-lettered: the state script failed on it',
              ),
          };
          return applyIsolatingFailures(isolation, chunk.records, job.cursor.applied);
        }).pipe(
          retryWithBackoff(waitingFor('applying to Redis', live(job), job)),
          map((result) => {
            if (result.kind === 'rewind') {
              assignments.rewind(job.cursor, result.applied);
              return false;
            }
            job.cursor.applied = result.applied;
            if (result.records > 0) metrics.batchApplied(result.records);
            else metrics.duplicateBatches++;
            metrics.advanced(job.key, result.applied);
            pendingCommits.set(job.key, { ...tp, offset: String(result.applied + 1) });
            return true;
          }),
        ),
      ),
      takeWhile((goOn) => goOn && live(job)()),
      catchError((error: unknown) => {
        if (live(job)()) {
          metrics.lastError = (error as Error).message;
          logger.error({ err: error, partition: job.key }, 'batch abandoned; it will be fetched again');
        }
        return EMPTY;
      }),
      finalize(() => job.done()),
    );
  }

  const jobs$ = new Subject<BatchJob>();
  const subscription = jobs$.pipe(concatPerKey((job) => job.key, processBatch)).subscribe();

  async function commitPending(): Promise<void> {
    if (pendingCommits.size === 0) return;
    const offsets = [...pendingCommits.values()];
    pendingCommits.clear();
    await consumer.commitOffsets(offsets).catch((error: unknown) => {
      logger.debug(
        { err: error },
        'offset commit for lag monitoring failed (a rebalance); Redis holds the truth',
      );
    });
  }
  const commitTimer = setInterval(() => void commitPending(), s.commitIntervalMs);
  const logTimer = setInterval(() => {
    const m = metrics.snapshot(true);
    logger.info(
      {
        recordsPerSecond: m.recordsPerSecond,
        records: m.records,
        batches: m.batches,
        averageBatchSize: m.averageBatchSize,
        maxBatchSize: m.maxBatchSize,
        lag: m.lag,
        ...(Object.keys(m.stalled).length > 0 ? { stalled: m.stalled } : {}),
        deadLetters: m.deadLetters,
        retries: m.retries,
      },
      Object.keys(m.stalled).length > 0 ? 'stream progress: partitions not advancing' : 'stream progress',
    );
  }, s.logIntervalMs);

  await consumer.subscribe({ topics: [...roles.keys()], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: s.partitionsConcurrently,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const role = roles.get(batch.topic);
      const cursor = assignments.cursor(batch.topic, batch.partition);
      // Not yet positioned at the offset Redis holds, or a seek is pending: the records are read again later.
      if (role === undefined || cursor === undefined || !cursor.ready || isStale()) return;
      if (batch.messages.length === 0) return;
      store.noteLogEnd({ topic: batch.topic, partition: batch.partition }, Number(batch.highWatermark) - 1);
      metrics.fetched(
        partitionKeyOf(batch.topic, batch.partition),
        Number(batch.highWatermark),
        cursor.applied,
      );
      const raw = batch.messages.map((m) => ({ offset: Number(m.offset), key: m.key, value: m.value }));
      // The fetch position moves on now; what is applied is what Redis holds, and a failure seeks back to it.
      resolveOffset(batch.lastOffset());
      let done: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      inFlight.add(finished);
      void finished.then(() => inFlight.delete(finished));
      await new Promise<void>((started) =>
        jobs$.next({
          key: partitionKeyOf(batch.topic, batch.partition),
          cursor,
          epoch: cursor.epoch,
          role,
          raw,
          heartbeat,
          isRunning,
          started,
          done,
        }),
      );
    },
  });
  logger.info({ groupId: s.groupId, topics: [...roles.keys()] }, 'stream topology started');

  return {
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(commitTimer);
      clearInterval(logTimer);
      await commitPending();
      await consumer.disconnect();
      // Batches queued or being applied stop at their next step; wait for them so metrics are final.
      await Promise.all(inFlight);
      assignments.stop();
      jobs$.complete();
      subscription.unsubscribe();
      await producer.disconnect();
      logger.info(metrics.snapshot(), 'stream topology stopped');
    },
    metrics: () => metrics.snapshot(),
  };
}
