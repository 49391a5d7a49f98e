/**
 * Applies one partition batch exactly once. The batch continues from the offset this consumer believes is
 * applied; when Redis holds another one, the script says so and nothing is written:
 * - a later offset (another consumer applied part of the batch during a rebalance): fold again only the
 *   records after it and apply those;
 * - an earlier offset (Redis lost writes: a restart without persistence, a failover): the records between
 *   must be read again, so the caller seeks the partition to the stored offset + 1.
 */
import type { TopicPartition } from '../src/state/layout/index.ts';
import type { ApplyOutcome, StateWriter } from '../src/state/writer/index.ts';
import type { ClickstreamFoldOptions } from './fold/clickstream.ts';
import { foldPartitionBatch, type PartitionRecord } from './fold/partition-batch.ts';
import type { TopicRole } from './validate/events.ts';

export type BatchResult =
  /** `applied` is the partition's stored offset now; `records` of them were applied by this call. */
  | { kind: 'done'; applied: number; records: number }
  /** Redis holds an earlier offset than this consumer applied: seek to `applied + 1`. */
  | { kind: 'rewind'; applied: number };

export async function applyPartitionBatch(
  store: StateWriter,
  tp: TopicPartition,
  role: TopicRole,
  records: readonly PartitionRecord[],
  applied: number,
  options: ClickstreamFoldOptions,
): Promise<BatchResult> {
  let from = applied;
  for (;;) {
    const pending = records.filter((r) => r.offset > from);
    if (pending.length === 0) return { kind: 'done', applied: from, records: 0 };
    const span = { after: from, last: pending[pending.length - 1].offset };
    const folded = foldPartitionBatch(role, pending, options);
    const outcome: ApplyOutcome =
      folded.role === 'clickstream'
        ? await store.applyClickstream(tp, span, folded.delta, folded.dlq)
        : await store.applyCdc(tp, folded.role, span, folded.delta, folded.dlq, folded.tombstones);
    if (outcome.status === 'applied') return { kind: 'done', applied: span.last, records: pending.length };
    if (outcome.status === 'duplicate') return { kind: 'done', applied: outcome.offset, records: 0 };
    if (outcome.offset < from) return { kind: 'rewind', applied: outcome.offset };
    from = outcome.offset;
  }
}
