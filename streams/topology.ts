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
 *
 * `startStreamTopology` wires the parts in topology/: the batch pipeline (batch-pipeline.ts, with the
 * dead-letter sender), the kafkajs eachBatch side (each-batch.ts), the offset commits, the progress log and the
 * log-end watch that sees a partition the consumer cannot read (log-ends.ts) or a log that started again below
 * the offset Redis holds (assignment.ts follows it).
 */
import { type Kafka, Partitioners } from 'kafkajs';
import { defer, firstValueFrom, Subject } from 'rxjs';
import type { Config } from '../src/config/index.ts';
import { settleWithin } from '../src/domain/settle.ts';
import type { EventCodec } from '../src/kafka/index.ts';
import type { Logger } from '../src/log/logger.ts';
import { createStateWriter, type RedisClient } from '../src/state/writer/index.ts';
import { trackAssignments } from './assignment.ts';
import { examinationTable } from './fold/position-bias.ts';
import { StreamMetrics, type StreamMetricsSnapshot } from './metrics.ts';
import { concatPerKey } from './operators/concat-per-key.ts';
import { type BackoffOptions, retryWithBackoff } from './operators/retry-with-backoff.ts';
import { type BatchJob, batchPipeline, type WaitingFor } from './topology/batch-pipeline.ts';
import { deadLetterSender } from './topology/dead-letters.ts';
import { eachBatchHandler } from './topology/each-batch.ts';
import { watchLogEnds } from './topology/log-ends.ts';
import { OffsetCommits } from './topology/offset-commits.ts';
import { logProgressEvery } from './topology/progress-log.ts';
import type { TopicRole } from './validate/events.ts';

export interface StreamTopologyOptions {
  config: Readonly<Config>;
  kafka: Kafka;
  codec: Pick<EventCodec, 'decode' | 'encode'> & Partial<Pick<EventCodec, 'decodeSync' | 'decodeAsContract'>>;
  /** A Redis or Redis Cluster client; the caller owns it (the topology never closes it). */
  redis: RedisClient;
  logger: Logger;
}

export interface StreamTopology {
  /** Stops consuming (the batch in flight finishes or is abandoned), commits the last offsets, disconnects. */
  close(): Promise<void>;
  metrics(): StreamMetricsSnapshot;
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
  const fold = {
    halfLifeMs: s.decayHalfLifeSeconds * 1000,
    recentClicks: s.recentClicks,
    examination,
    now: Date.now,
    maxFutureMs: s.decayMaxFutureSeconds * 1000,
  };
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
    userActivityTtlSeconds: s.userActivityTtlSeconds,
    examination,
  });
  const metrics = new StreamMetrics(store.calls, s.stallAfterMs);
  const waitingFor: WaitingFor = (what, live, job) => ({
    ...backoff,
    shouldRetry: () => live(),
    onRetriesEnd: () => metrics.retriesEnded(job?.key ?? what),
    onRetry: (error, attempt, waitMs) => {
      metrics.retried(error, job?.key ?? what);
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
  const admin = kafka.admin();
  await producer.connect();
  await consumer.connect();
  await admin.connect();
  const assignments = trackAssignments({
    consumer,
    store,
    metrics,
    logger,
    backoff,
    checkEveryMs: s.stateCheckMs,
    logRanges: async (topic) =>
      new Map(
        (await admin.fetchTopicOffsets(topic)).map((p) => [
          p.partition,
          { low: Number(p.low), high: Number(p.high) },
        ]),
      ),
  });

  const logEnds = watchLogEnds({
    admin,
    topics: [...roles.keys()],
    readOffset: (tp) => store.readOffset(tp),
    consumer,
    assignments,
    metrics,
    logger,
    everyMs: s.stateCheckMs,
  });
  const commits = new OffsetCommits(consumer, logger);
  const processBatch = batchPipeline({
    maxBatchRecords: s.maxBatchRecords,
    codec,
    store,
    fold,
    assignments,
    metrics,
    logger,
    sendDeadLetters: deadLetterSender({ codec, producer, topic: topics.deadLetter, metrics }),
    waitingFor,
    commits,
    isClosing: () => closing,
  });
  const inFlight = new Set<Promise<void>>();
  const jobs$ = new Subject<BatchJob>();
  const subscription = jobs$.pipe(concatPerKey((job) => job.key, processBatch)).subscribe();
  commits.every(s.commitIntervalMs);
  const logTimer = logProgressEvery(metrics, logger, s.logIntervalMs);

  await consumer.subscribe({ topics: [...roles.keys()], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: s.partitionsConcurrently,
    eachBatch: eachBatchHandler({
      roles,
      assignments,
      store,
      metrics,
      submit: (job) => jobs$.next(job),
      inFlight,
    }),
  });
  logger.info({ groupId: s.groupId, topics: [...roles.keys()] }, 'stream topology started');

  return {
    async close() {
      if (closing) return;
      closing = true;
      commits.stop();
      clearInterval(logTimer);
      // Kafka hears of the commit for lag monitoring only (Redis holds the offsets), and of the consumer leaving its
      // group: with the broker gone each retries for many seconds, so the stop waits a little for them, not for that.
      await settleWithin(commits.commit());
      await settleWithin(consumer.disconnect());
      // Batches queued or being applied stop at their next step; wait for them so metrics are final.
      await Promise.all(inFlight);
      await logEnds.stop();
      await admin.disconnect();
      assignments.stop();
      jobs$.complete();
      subscription.unsubscribe();
      await producer.disconnect();
      logger.info(metrics.snapshot(), 'stream topology stopped');
    },
    metrics: () => metrics.snapshot(),
  };
}
