/**
 * The topology's kafkajs side: each fetched batch of a positioned partition becomes a `BatchJob`. The fetch
 * position moves on at once (what is applied is what Redis holds; a failure seeks back to it), and eachBatch
 * resolves when the job starts, that is once the partition's previous batch is applied, so the next fetch
 * overlaps the current apply.
 */
import type { EachBatchHandler } from 'kafkajs';
import { undecodableBatchOf } from '../../src/kafka/index.ts';
import type { StateWriter } from '../../src/state/writer/index.ts';
import { type AssignmentTracker, partitionKeyOf } from '../assignment.ts';
import type { StreamMetrics } from '../metrics.ts';
import type { RawRecord } from '../records.ts';
import type { TopicRole } from '../validate/events.ts';
import type { BatchJob } from './batch-pipeline.ts';

export interface EachBatchDeps {
  /** Topic → its role; batches of other topics are ignored. */
  roles: ReadonlyMap<string, TopicRole>;
  assignments: AssignmentTracker;
  store: Pick<StateWriter, 'noteLogEnd'>;
  metrics: StreamMetrics;
  /** Queues a job on the pipeline. */
  submit: (job: BatchJob) => void;
  /** Jobs not done yet: `close` waits for them. */
  inFlight: Set<Promise<void>>;
}

export function eachBatchHandler(deps: EachBatchDeps): EachBatchHandler {
  const { roles, assignments, store, metrics, submit, inFlight } = deps;
  return async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
    const role = roles.get(batch.topic);
    const cursor = assignments.cursor(batch.topic, batch.partition);
    // Not yet positioned at the offset Redis holds, or a seek is pending: the records are read again later.
    if (role === undefined || cursor === undefined || !cursor.ready || isStale()) return;
    if (batch.messages.length === 0) return;
    if (Number(batch.highWatermark) <= cursor.applied) {
      // The log ends before the offset Redis holds (kafkajs went back to the log start when the broker said the
      // offset was out of range): a log that started again. Nothing of it is applied until the tracker has moved
      // the stored offset to its start; every record here is at or below that offset, so nothing is lost.
      resolveOffset(batch.lastOffset());
      void assignments.checkLogRange(cursor);
      return;
    }
    store.noteLogEnd({ topic: batch.topic, partition: batch.partition }, Number(batch.highWatermark) - 1);
    metrics.fetched(
      partitionKeyOf(batch.topic, batch.partition),
      Number(batch.highWatermark),
      cursor.applied,
    );
    const raw = batch.messages.map((m): RawRecord => {
      const undecodableBatch = undecodableBatchOf(m);
      return {
        offset: Number(m.offset),
        key: m.key,
        value: m.value,
        timestamp: Number(m.timestamp),
        ...(undecodableBatch === null ? {} : { undecodableBatch }),
      };
    });
    // The fetch position moves on now; what is applied is what Redis holds, and a failure seeks back to it.
    resolveOffset(batch.lastOffset());
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    inFlight.add(finished);
    void finished.then(() => inFlight.delete(finished));
    await new Promise<void>((started) =>
      submit({
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
  };
}
