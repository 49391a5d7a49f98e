/**
 * Applies one change-feed entry (docs/state-layout.md, "Change feed") to the live reader's tables. An entry holds
 * absolute values, so applying it twice changes nothing. A clickstream entry comes compact (`c`, compact-entry.ts:
 * no JSON parser, no schema library); CDC entries, and clickstream entries the writer could not write compact, come
 * as JSON (`d`), validated with the layout's schemas. An entry that fails its checks changes nothing, counts as
 * malformed and says why; a CDC row that fails validation counts as malformed and as removed.
 */
import {
  clickstreamFeedDataSchema,
  FEED_ENTRY_FIELDS,
  itemsFeedDataSchema,
  usersFeedDataSchema,
} from '../layout/feed-entry.ts';
import { CompactEntryApplier } from './compact-entry.ts';
import { entryField, type FeedKind } from './feed-cursor.ts';
import { mergeItemCounters, mergeUserActivity, parseItemRow, parseUserRow, safeJson } from './parse-state.ts';
import type { StateTables } from './state-tables.ts';

/** The counters an entry moves. */
export interface EntryCounters {
  entriesApplied: number;
  malformed: number;
}

export interface FeedEntryApplier {
  /** Applies the entry with the stream fields `fields` of `partition` of a `kind` feed; null, or why it was refused. */
  apply(kind: FeedKind, partition: number, fields: string[]): string | null;
}

export function createFeedEntryApplier(tables: StateTables, counters: EntryCounters): FeedEntryApplier {
  const compact = new CompactEntryApplier(tables);
  return {
    apply(kind, partition, fields) {
      const why = applyEntry(kind, partition, fields);
      if (why === null) counters.entriesApplied++;
      else counters.malformed++;
      return why;
    },
  };

  function applyEntry(kind: FeedKind, partition: number, fields: string[]): string | null {
    if (kind === 'click') {
      const text = entryField(fields, FEED_ENTRY_FIELDS.compact);
      if (text !== undefined) return compact.apply(partition, text);
    }
    const json = entryField(fields, FEED_ENTRY_FIELDS.data);
    if (json === undefined) return 'the entry has neither a `c` nor a `d` field';
    const data = safeJson(json);
    const applied =
      kind === 'click'
        ? applyClickstreamData(tables, partition, data)
        : kind === 'items'
          ? applyItemsData(tables, partition, data, counters)
          : applyUsersData(tables, partition, data, counters);
    return applied ? null : 'its `d` is not the JSON of a feed entry';
  }
}

function applyClickstreamData(tables: StateTables, partition: number, data: unknown): boolean {
  const parsed = clickstreamFeedDataSchema.safeParse(data);
  if (!parsed.success) return false;
  for (const [key, [imp, clk]] of Object.entries(parsed.data.posterior)) {
    tables.setArm(partition, key, imp, clk);
  }
  for (const [itemId, fields] of Object.entries(parsed.data.item)) {
    tables.setItemCounters(
      partition,
      itemId,
      mergeItemCounters(tables.itemCounters(partition, itemId), fields),
    );
  }
  for (const [userId, fields] of Object.entries(parsed.data.user)) {
    tables.setUserActivity(
      partition,
      userId,
      fields === null ? null : mergeUserActivity(tables.activityOf(userId), fields),
    );
  }
  return true;
}

function applyItemsData(
  tables: StateTables,
  partition: number,
  data: unknown,
  counters: EntryCounters,
): boolean {
  const parsed = itemsFeedDataSchema.safeParse(data);
  if (!parsed.success) return false;
  setRows(
    parsed.data.items,
    parseItemRow,
    (itemId, row) => tables.setItemRow(partition, itemId, row),
    counters,
  );
  return true;
}

function applyUsersData(
  tables: StateTables,
  partition: number,
  data: unknown,
  counters: EntryCounters,
): boolean {
  const parsed = usersFeedDataSchema.safeParse(data);
  if (!parsed.success) return false;
  setRows(
    parsed.data.users,
    parseUserRow,
    (userId, row) => tables.setUserRow(partition, userId, row),
    counters,
  );
  return true;
}

/** Sets each row of a CDC entry (null: removed); a row that fails validation counts as malformed, and as removed. */
function setRows<Row>(
  rows: Record<string, unknown>,
  parse: (row: unknown) => Row | null,
  set: (id: string, row: Row | null) => void,
  counters: EntryCounters,
): void {
  for (const [id, row] of Object.entries(rows)) {
    const parsed = row === null ? null : parse(row);
    if (row !== null && parsed === null) counters.malformed++;
    set(id, parsed);
  }
}
