/**
 * Folds a batch of Debezium-style change events (one partition, in offset order) into the rows to upsert and
 * the keys to delete. Per key the last change of the batch wins, as it would if the changes were applied one
 * by one: create (`c`), update (`u`) and snapshot read (`r`) upsert the `after` row; delete (`d`) removes the
 * `before` row's key. Envelopes were validated before (see streams/validate/events.ts).
 *
 * The change feed value of an item or a user is its row (an unavailable item's says `available: false`: it leaves
 * every carousel but keeps its counts), or `null` once deleted (readers then drop what they cached of it).
 */
import type { CdcDelta } from '../../src/domain/state-deltas.ts';
import type { ChangeEnvelope, ItemRow, UserRow } from '../schemas/index.ts';

/** Row JSON with a fixed field order, as documented in docs/state-layout.md. */
export function itemRowJson(row: ItemRow): string {
  const { itemId, title, category, tags, available, createdAt } = row;
  return JSON.stringify({ itemId, title, category, tags, available, createdAt });
}

export function userRowJson(row: UserRow): string {
  const { userId, segment, country, subscribed } = row;
  return JSON.stringify({ userId, segment, country, subscribed });
}

export function foldItemChanges(changes: Iterable<ChangeEnvelope<ItemRow>>): CdcDelta {
  const delta: CdcDelta = { events: 0, rows: new Map(), feed: new Map() };
  for (const change of changes) {
    delta.events++;
    if (change.op === 'd') {
      const key = (change.before ?? change.after)!.itemId;
      delta.rows.set(key, null);
      delta.feed.set(key, null);
    } else {
      const row = change.after!;
      delta.rows.set(row.itemId, itemRowJson(row));
      delta.feed.set(row.itemId, JSON.parse(itemRowJson(row)));
    }
  }
  return delta;
}

export function foldUserChanges(changes: Iterable<ChangeEnvelope<UserRow>>): CdcDelta {
  const delta: CdcDelta = { events: 0, rows: new Map(), feed: new Map() };
  for (const change of changes) {
    delta.events++;
    if (change.op === 'd') {
      const key = (change.before ?? change.after)!.userId;
      delta.rows.set(key, null);
      delta.feed.set(key, null);
    } else {
      const row = change.after!;
      const json = userRowJson(row);
      delta.rows.set(row.userId, json);
      delta.feed.set(row.userId, JSON.parse(json));
    }
  }
  return delta;
}
