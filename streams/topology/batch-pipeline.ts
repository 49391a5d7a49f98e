/**
 * The path of one kafkajs batch through the topology, top to bottom: split into micro-batches → decode
 * (schema registry) → validate (refused records to the dead-letter topic) → fold + apply (one Redis script per
 * micro-batch, a record the script refuses isolated and dead-lettered) → note the offset to commit. A batch
 * fetched before a seek back or a rebalance is dropped (read again from where Redis stands); an unavailable
 * Redis or registry makes it wait with backoff while it is still live.
 */
import { concatMap, defer, EMPTY, map, type Observable, of, takeWhile } from 'rxjs';
import { catchError, finalize } from 'rxjs/operators';
import type { EventCodec } from '../../src/kafka/index.ts';
import type { Logger } from '../../src/log/logger.ts';
import type { StateWriter } from '../../src/state/writer/index.ts';
import type { AssignmentTracker, PartitionCursor } from '../assignment.ts';
import type { ClickstreamFoldOptions } from '../fold/clickstream.ts';
import type { PartitionRecord } from '../fold/partition-batch.ts';
import { APPLY_FAILED, applyIsolatingFailures, type IsolationContext } from '../isolate-failure.ts';
import type { StreamMetrics } from '../metrics.ts';
import { decodeRecords } from '../operators/decode-records.ts';
import { produceDeadLetters } from '../operators/produce-dead-letters.ts';
import { type BackoffOptions, retryWithBackoff } from '../operators/retry-with-backoff.ts';
import { splitBatch } from '../operators/split-batch.ts';
import { validateRecords } from '../operators/validate-records.ts';
import type { PartitionChunk, RawRecord } from '../records.ts';
import type { TopicRole } from '../validate/events.ts';
import type { DeadLetterSender } from './dead-letters.ts';
import type { OffsetCommits } from './offset-commits.ts';

/**
 * One kafkajs batch on its way through the topology. `started` resolves the eachBatch that queued it, once the
 * batch before it of the same partition is applied: kafkajs then fetches the next batches while this one is
 * applied (one batch per partition queued at most). `done` when it is applied or dropped.
 */
export interface BatchJob {
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

/** Retry options of a step that waits on Redis or the registry while `live` says so. */
export type WaitingFor = (what: string, live: () => boolean, job?: BatchJob) => BackoffOptions;

export interface BatchPipelineDeps {
  maxBatchRecords: number;
  codec: Pick<EventCodec, 'decode'> & Partial<Pick<EventCodec, 'decodeSync' | 'decodeAsContract'>>;
  store: StateWriter;
  fold: ClickstreamFoldOptions;
  assignments: AssignmentTracker;
  metrics: StreamMetrics;
  logger: Logger;
  sendDeadLetters: DeadLetterSender;
  waitingFor: WaitingFor;
  commits: OffsetCommits;
  isClosing: () => boolean;
}

/** The function that takes a job through the pipeline (one job of a partition at a time). */
export function batchPipeline(deps: BatchPipelineDeps): (job: BatchJob) => Observable<unknown> {
  const { codec, store, fold, assignments, metrics, logger, sendDeadLetters, waitingFor, commits } = deps;
  // Said once a minute per schema id: a whole topic may be written with a lost id until its writer notices.
  const reportedUnregistered = new Map<number, number>();
  const reportUnregistered = (schemaId: number, schemaName: string) => {
    const now = Date.now();
    if (now - (reportedUnregistered.get(schemaId) ?? -Infinity) < 60_000) return;
    if (reportedUnregistered.size >= 1000) reportedUnregistered.clear();
    reportedUnregistered.set(schemaId, now);
    logger.warn(
      { schemaId, schemaName },
      'records carry a schema id the registry no longer has (its subject was deleted permanently); read as the one contract of their topic that fits them',
    );
  };
  const live = (job: BatchJob) => () =>
    !deps.isClosing() &&
    job.isRunning() &&
    job.cursor.epoch === job.epoch &&
    assignments.cursor(job.cursor.tp.topic, job.cursor.tp.partition) === job.cursor;

  /** Folds and applies one decoded micro-batch; false when Redis holds less than the cursor knew (a rewind). */
  const apply = (job: BatchJob, chunk: PartitionChunk & { records: readonly PartitionRecord[] }) => {
    const { tp } = job.cursor;
    return defer(() => {
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
        // Sought elsewhere while it was applied (a log found started again): the cursor is no longer this job's.
        if (job.cursor.epoch !== job.epoch) return false;
        if (result.kind === 'rewind') {
          assignments.rewind(job.cursor, result.applied);
          return false;
        }
        job.cursor.applied = result.applied;
        if (result.records > 0) metrics.batchApplied(result.records);
        else metrics.duplicateBatches++;
        metrics.advanced(job.key, result.applied);
        commits.note(job.key, { ...tp, offset: String(result.applied + 1) });
        return true;
      }),
    );
  };

  return (job) => {
    const { tp } = job.cursor;
    job.started();
    // Fetched before a seek back or a rebalance: those records are read again from where Redis stands.
    if (!live(job)()) {
      job.done();
      return EMPTY;
    }
    return of(job.raw).pipe(
      splitBatch<RawRecord>(deps.maxBatchRecords),
      map((raw): PartitionChunk => ({ tp, role: job.role, raw })),
      concatMap((chunk) =>
        of(chunk).pipe(
          decodeRecords(codec, reportUnregistered),
          validateRecords(),
          produceDeadLetters(sendDeadLetters),
          retryWithBackoff(waitingFor('decoding or dead-lettering', live(job), job)),
        ),
      ),
      concatMap((chunk) => apply(job, chunk)),
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
  };
}
