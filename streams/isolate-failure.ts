/**
 * A partition batch whose state script fails the same way on every try (a Redis script error, not a lost
 * connection) would stop its partition for good. Instead, the batch is split in halves until the record that
 * fails it is found; that record is dead-lettered with the script's reason and counted as dead, and the
 * partition moves on. Records before it are applied first, so the partition's order is kept.
 */
import { type ErrorCode, hasCode } from '../src/errors/index.ts';
import type { TopicPartition } from '../src/state/layout/index.ts';
import type { StateWriter } from '../src/state/writer/index.ts';
import { applyPartitionBatch, type BatchResult } from './apply.ts';
import type { ClickstreamFoldOptions } from './fold/clickstream.ts';
import type { PartitionRecord } from './fold/partition-batch.ts';
import type { TopicRole } from './validate/events.ts';

/** Error code of a record whose state script failed deterministically. */
export const APPLY_FAILED: ErrorCode = 'CROUPIER_ERR_STREAM_APPLY_FAILED';

/**
 * Replies that a retry can cure (memory, a busy or loading server, a failover, a server that cannot write its
 * AOF or RDB file, e.g. on a full disk, or lacks the replicas `min-replicas-to-write` asks for); every other one
 * cannot.
 */
const TRANSIENT_REPLY =
  /^(OOM|BUSY|LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOSCRIPT|MOVED|ASK|MISCONF|NOREPLICAS)\b/;

/**
 * Whether `error` says the batch itself cannot be applied, so applying it again would fail again: the script
 * refused a record's key before writing anything, or the script failed at run time on its input (Lua errors
 * are not rolled back by Redis: the scripts check what they can before their first write, so this is a bug).
 */
export function isDeterministicScriptFailure(error: unknown): boolean {
  if (hasCode(error, 'CROUPIER_ERR_STREAM_STATE_KEY_TYPE')) return true;
  if (!(error instanceof Error) || error.name !== 'ReplyError') return false;
  return error.message.includes('@user_script:') && !TRANSIENT_REPLY.test(error.message);
}

export interface IsolationContext {
  store: StateWriter;
  tp: TopicPartition;
  role: TopicRole;
  fold: ClickstreamFoldOptions;
  /** Writes the dead letter of the record at `offset` (its original bytes) with `reason`. */
  deadLetter(offset: number, reason: string): Promise<void>;
  /** Called once per record isolated, after its dead letter is written. */
  onIsolated?(offset: number, reason: string): void;
}

/**
 * Applies `records` after `applied` like applyPartitionBatch, and when the script fails deterministically,
 * isolates and dead-letters the failing records (see above). Other errors are thrown for the caller to retry.
 */
export async function applyIsolatingFailures(
  ctx: IsolationContext,
  records: readonly PartitionRecord[],
  applied: number,
): Promise<BatchResult> {
  const pending = records.filter((r) => r.offset > applied);
  try {
    return await applyPartitionBatch(ctx.store, ctx.tp, ctx.role, pending, applied, ctx.fold);
  } catch (error) {
    if (!isDeterministicScriptFailure(error) || pending.length === 0) throw error;
    if (pending.length === 1) {
      const [record] = pending;
      // A dead record alone fails too: the fault is in the partition's state, not in any record. Retry.
      if (record.kind === 'dead') throw error;
      const reason = `the state script failed on this record: ${(error as Error).message}`;
      await ctx.deadLetter(record.offset, reason);
      ctx.onIsolated?.(record.offset, reason);
      const dead: PartitionRecord = { offset: record.offset, kind: 'dead', code: APPLY_FAILED };
      return applyPartitionBatch(ctx.store, ctx.tp, ctx.role, [dead], applied, ctx.fold);
    }
    const mid = Math.ceil(pending.length / 2);
    const first = await applyIsolatingFailures(ctx, pending.slice(0, mid), applied);
    if (first.kind === 'rewind') return first;
    const second = await applyIsolatingFailures(ctx, pending.slice(mid), first.applied);
    if (second.kind === 'rewind') return second;
    return { kind: 'done', applied: second.applied, records: first.records + second.records };
  }
}
