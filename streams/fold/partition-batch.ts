/**
 * One partition batch as the topology holds it after decode and validation, and its fold by topic role:
 * good records become one delta, refused ones a count per error code (their dead letters are produced
 * separately), CDC tombstones (null values after a delete) a count.
 */

import { type CdcDelta, CLICK_TIMES_KEPT, type ClickstreamDelta } from '../../src/domain/state-deltas.ts';
import type { ClickstreamEvent, ItemChange, UserChange } from '../schemas/index.ts';
import type { TopicRole } from '../validate/events.ts';
import { foldItemChanges, foldUserChanges } from './cdc.ts';
import { type ClickstreamFoldOptions, foldClickstream } from './clickstream.ts';

export type PartitionRecord =
  /** `timestamp`: Kafka's timestamp of the record (ms), where the fetch gave one. */
  | { offset: number; kind: 'event'; event: ClickstreamEvent; timestamp?: number }
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
  if (role === 'clickstream') {
    const delta = foldClickstream(events, options);
    const clickTimes = clickTimesOf(records);
    if (clickTimes.length > 0) delta.clickTimes = clickTimes;
    return { role, delta, dlq };
  }
  if (role === 'items') return { role, delta: foldItemChanges(items), dlq, tombstones };
  return { role, delta: foldUserChanges(users), dlq, tombstones };
}

/** Kafka's timestamps of the batch's clicks, the first CLICK_TIMES_KEPT. */
function clickTimesOf(records: readonly PartitionRecord[]): number[] {
  const times: number[] = [];
  for (const r of records) {
    if (times.length === CLICK_TIMES_KEPT) break;
    if (r.kind === 'event' && r.event.type === 'Click' && r.timestamp !== undefined && r.timestamp > 0)
      times.push(r.timestamp);
  }
  return times;
}
