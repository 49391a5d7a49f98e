/**
 * The source position of a change event: where the change stands in its database's commit order, as a string
 * that compares (byte by byte, as the apply script compares it) in that order. A key's change is applied only
 * when its position is newer than the one the key holds, so a change re-sent after a crash of the source can
 * never take a row back to an older state.
 *
 * The position is (commitLsn, lsn), both as 16 hex digits: the commit of the change's transaction first (the
 * order PostgreSQL streams transactions in), then the change's own LSN within it. A snapshot read (`op: 'r'`)
 * carries the snapshot's LSN as its commit LSN and stands at (snapshot LSN, 0): before every change committed at
 * or after the snapshot, even one written before it. A change without a commit LSN (the simulator, a source that
 * gives none) has no position and is applied as it comes.
 */
import type { ChangeEnvelope } from '../schemas/index.ts';

function hex16(value: number): string {
  return value.toString(16).padStart(16, '0');
}

/** The change's position, or null when its source gives no commit LSN. */
export function sourcePosition(change: Pick<ChangeEnvelope<unknown>, 'op' | 'source'>): string | null {
  const commit = change.source.commitLsn;
  if (commit === null || commit === undefined) return null;
  return hex16(commit) + hex16(change.op === 'r' ? 0 : (change.source.lsn ?? 0));
}
