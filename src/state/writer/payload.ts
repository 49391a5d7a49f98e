/**
 * Encodes folded deltas as the JSON payloads the state scripts read (flat lists, see each script's header), and the
 * change-feed entry of a CDC batch (`../layout/feed-entry.ts`; the clickstream script builds its own in Lua).
 */
import type { CdcDelta, ClickstreamDelta } from '../../domain/state-deltas.ts';
import type { ItemsFeedData, UsersFeedData } from '../layout/feed-entry.ts';

/** Dead letters of a batch per error code. */
export type DeadLetterCounts = ReadonlyMap<string, number>;

function flatCounts(counts: DeadLetterCounts): (string | number)[] {
  const out: (string | number)[] = [];
  for (const [code, n] of counts) out.push(code, n);
  return out;
}

export function clickstreamPayload(
  delta: ClickstreamDelta,
  dlq: DeadLetterCounts,
  examination: readonly number[] | undefined,
): string {
  const arms: (string | number)[] = [];
  for (const [key, a] of delta.arms) arms.push(key, a.imp, a.clk);
  const items: (string | number)[] = [];
  for (const it of delta.items.values()) {
    items.push(
      it.itemId,
      it.imp,
      it.clk,
      it.conv,
      it.convValue,
      it.watchMs,
      it.seen,
      it.decayImp,
      it.decayClk,
      it.decayAt,
    );
  }
  const users: (string | number)[] = [];
  for (const u of delta.users.values()) {
    users.push(u.userId, u.imp, u.clk, u.conv, u.convValue, u.watchMs, u.lastActive, u.recent.length);
    for (const itemId of u.recent) users.push(itemId);
  }
  const reqs: (string | number)[] = [];
  for (const [requestId, shown] of delta.requests) {
    reqs.push(requestId, shown.size);
    for (const [itemId, value] of shown) reqs.push(itemId, value);
  }
  const lookups: string[] = [];
  for (const l of delta.lookups) lookups.push(l.userId, l.requestId, l.itemId, l.segment);
  const payload: Record<string, unknown> = {
    n: delta.events,
    dlq: flatCounts(dlq),
    arms,
    items,
    users,
    reqs,
    lookups,
  };
  if (examination !== undefined) payload.ex = examination;
  if (delta.clickTimes !== undefined && delta.clickTimes.length > 0) payload.ct = delta.clickTimes;
  return JSON.stringify(payload);
}

export function cdcPayload(delta: CdcDelta, dlq: DeadLetterCounts, tombstones: number): string {
  const set: string[] = [];
  const del: string[] = [];
  for (const [key, json] of delta.rows) {
    if (json === null) del.push(key);
    else set.push(key, json);
  }
  const payload: Record<string, unknown> = { n: delta.events, dlq: flatCounts(dlq), tombstones, set, del };
  if (delta.positions !== undefined && delta.positions.size > 0) payload.pos = [...delta.positions].flat();
  if (delta.truncate !== undefined) {
    payload.trunc = delta.truncate;
    if (delta.truncateResets) payload.reset = true;
  }
  return JSON.stringify(payload);
}

/** The change feed entry `d` of a CDC batch: `{"items": {...}}` or `{"users": {...}}`. */
export function cdcFeedEntry(kind: 'items' | 'users', delta: CdcDelta): string {
  const rows = Object.fromEntries(delta.feed);
  const data: ItemsFeedData | UsersFeedData = kind === 'items' ? { items: rows } : { users: rows };
  return JSON.stringify(data);
}
