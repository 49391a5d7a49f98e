/**
 * Folds a batch of Debezium-style change events (one partition, in offset order) into the rows to upsert and
 * the keys to delete. Per key the last change of the batch wins, as it would if the changes were applied one
 * by one: create (`c`), update (`u`) and snapshot read (`r`) upsert the `after` row; delete (`d`) removes the
 * `before` row's key. Envelopes were validated before (see streams/validate/events.ts).
 *
 * A change with a source position (source-position.ts) that is not newer than the one an earlier change of the
 * batch gave its key is skipped (a re-sent change); the delta carries each key's newest position, and the
 * apply script skips the keys whose stored position is as new or newer.
 *
 * A truncate (`t`: every row of the source table gone, PostgreSQL's TRUNCATE) is written to every partition of the
 * topic, as a partition's rows are those of the keys it carries. It drops what the batch folded before it (the
 * truncate removes those rows anyway) and sets the delta's `truncate`: the apply script first removes every row of
 * the partition older than the truncate, then applies the changes after it. A truncate without a transaction id
 * is the one a snapshot starts with (src/cdc/postgres/initial-snapshot.ts): it resets the partition, every row
 * and position, whatever their positions.
 *
 * The change feed value of an item or a user is its row (an unavailable item's says `available: false`: it leaves
 * every carousel but keeps its counts), or `null` once deleted (readers then drop what they cached of it).
 */
import type { CdcDelta } from '../../src/domain/state-deltas.ts';
import type { ChangeEnvelope, ItemRow, UserRow } from '../schemas/index.ts';
import { sourcePosition } from './source-position.ts';

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
  return foldChanges(changes, (row) => row.itemId, itemRowJson);
}

export function foldUserChanges(changes: Iterable<ChangeEnvelope<UserRow>>): CdcDelta {
  return foldChanges(changes, (row) => row.userId, userRowJson);
}

function foldChanges<Row extends ItemRow | UserRow>(
  changes: Iterable<ChangeEnvelope<Row>>,
  keyOf: (row: Row) => string,
  rowJson: (row: Row) => string,
): CdcDelta {
  const positions = new Map<string, string>();
  const delta: CdcDelta = { events: 0, rows: new Map(), feed: new Map(), positions };
  for (const change of changes) {
    delta.events++;
    if (change.op === 't') {
      delta.truncate = sourcePosition(change) ?? '';
      delta.truncateResets = change.source.txId === null || change.source.txId === undefined;
      delta.rows.clear();
      delta.feed.clear();
      positions.clear();
      continue;
    }
    const row = change.op === 'd' ? (change.before ?? change.after)! : change.after!;
    const key = keyOf(row);
    const position = sourcePosition(change);
    if (position !== null) {
      const held = positions.get(key);
      if (held !== undefined && held >= position) continue;
      positions.set(key, position);
    }
    if (change.op === 'd') {
      delta.rows.set(key, null);
      delta.feed.set(key, null);
    } else {
      const json = rowJson(row);
      delta.rows.set(key, json);
      delta.feed.set(key, JSON.parse(json));
    }
  }
  return delta;
}
