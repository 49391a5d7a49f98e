/**
 * The world's catalog and user changes as Debezium-style change events (`cdc.items`, `cdc.users`), the way
 * a database connector would publish them: a snapshot (`op: 'r'`) of the initial rows, then creates,
 * updates and deletes. Simulated seconds map to epoch milliseconds from `epochMs`.
 */
import type { ItemChange, ItemRow, UserChange, UserRow } from '../../streams/schemas/index.ts';
import type { SimItem, SimUser } from './population.ts';
import type { UserSnapshot, World, WorldEvent } from './world.ts';

const SOURCE = { connector: 'croupier-simulator', db: 'catalog' } as const;

export function itemRow(item: SimItem, epochMs: number, available = item.live): ItemRow {
  return {
    itemId: item.itemId,
    title: item.title,
    category: item.category,
    tags: [item.category],
    available,
    createdAt: Math.round(epochMs + item.createdAt * 1000),
  };
}

export function userRow(user: SimUser | UserSnapshot, segments: readonly string[], userId: string): UserRow {
  return {
    userId,
    segment: segments[user.segment],
    country: user.country,
    subscribed: user.subscribed,
  };
}

function envelope<Row>(
  table: string,
  op: 'c' | 'u' | 'd' | 'r',
  before: Row | null,
  after: Row | null,
  tsMs: number,
  lsn: number,
) {
  return { before, after, op, ts_ms: tsMs, source: { ...SOURCE, table, ts_ms: tsMs, lsn } };
}

export interface CdcRecord {
  topic: 'items' | 'users';
  key: string;
  value: ItemChange | UserChange;
}

/** The snapshot of the world's current rows (`op: 'r'`), items first. */
export function snapshotRecords(world: World, epochMs: number): CdcRecord[] {
  const out: CdcRecord[] = [];
  let lsn = 0;
  for (const item of world.liveItems()) {
    out.push({
      topic: 'items',
      key: item.itemId,
      value: envelope('items', 'r', null, itemRow(item, epochMs), epochMs, lsn++),
    });
  }
  if (world.scenario.kind === 'world') {
    for (const user of world.users) {
      out.push({
        topic: 'users',
        key: user.userId,
        value: envelope('users', 'r', null, userRow(user, world.segments, user.userId), epochMs, lsn++),
      });
    }
  }
  return out;
}

/** The change events of one world event (none for events no table sees, like a drift of tastes). */
export function eventRecords(world: World, event: WorldEvent, epochMs: number, lsn: number): CdcRecord[] {
  const ts = Math.round(epochMs + event.at * 1000);
  switch (event.type) {
    case 'item-added':
      return [
        {
          topic: 'items',
          key: event.item.itemId,
          value: envelope('items', 'c', null, itemRow(event.item, epochMs, true), ts, lsn),
        },
      ];
    case 'item-retired':
      return [
        {
          topic: 'items',
          key: event.item.itemId,
          value: envelope(
            'items',
            'u',
            itemRow(event.item, epochMs, true),
            itemRow(event.item, epochMs, false),
            ts,
            lsn,
          ),
        },
      ];
    case 'user-changed': {
      const id = event.user.userId;
      return [
        {
          topic: 'users',
          key: id,
          value: envelope(
            'users',
            'u',
            userRow(event.before, world.segments, id),
            userRow(event.user, world.segments, id),
            ts,
            lsn,
          ),
        },
      ];
    }
    default:
      return [];
  }
}
