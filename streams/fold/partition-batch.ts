/**
 * One partition batch as the topology holds it after decode and validation, and its fold by topic role:
 * good records become one delta, refused ones a count per error code (their dead letters are produced
 * separately), CDC tombstones (null values after a delete) a count.
 */

import type { CdcDelta, ClickstreamDelta } from '../../src/domain/state-deltas.ts';
import type { ClickstreamEvent, ItemChange, UserChange } from '../schemas/index.ts';
import type { TopicRole } from '../validate/events.ts';
import { foldItemChanges, foldUserChanges } from './cdc.ts';
import { type ClickstreamFoldOptions, foldClickstream } from './clickstream.ts';

export type PartitionRecord =
  | { offset: number; kind: 'event'; event: ClickstreamEvent }
  | { offset: number; kind: 'itemChange'; change: ItemChange }
  | { offset: number; kind: 'userChange'; change: UserChange }
  | { offset: number; kind: 'dead'; code: string }
  | { offset: number; kind: 'tombstone' };

export type FoldedBatch =
  | { role: 'clickstream'; delta: ClickstreamDelta; dlq: Map<string, number> }
  | { role: 'items' | 'users'; delta: CdcDelta; dlq: Map<string, number>; tombstones: number };

/** Folds `records` (offset order) of a partition of a `role` topic. */
export function foldPartitionBatch(
  role: TopicRole,
  records: readonly PartitionRecord[],
  options: ClickstreamFoldOptions,
): FoldedBatch {
  const dlq = new Map<string, number>();
  let tombstones = 0;
  const events: ClickstreamEvent[] = [];
  const items: ItemChange[] = [];
  const users: UserChange[] = [];
  for (const r of records) {
    if (r.kind === 'event') events.push(r.event);
    else if (r.kind === 'itemChange') items.push(r.change);
    else if (r.kind === 'userChange') users.push(r.change);
    else if (r.kind === 'dead') dlq.set(r.code, (dlq.get(r.code) ?? 0) + 1);
    else tombstones++;
  }
  if (role === 'clickstream') return { role, delta: foldClickstream(events, options), dlq };
  if (role === 'items') return { role, delta: foldItemChanges(items), dlq, tombstones };
  return { role, delta: foldUserChanges(users), dlq, tombstones };
}
