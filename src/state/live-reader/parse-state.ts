/**
 * Parsing of what docs/state-layout.md stores, for the live reader: the snapshot hashes, the stored rows and the
 * fields of change-feed entries (the shapes are defined in `../layout/feed-entry.ts`). Pure functions; a malformed
 * value is skipped (and counted by the caller), never thrown into the server.
 */
import type { ItemInfo } from '../../domain/decision.ts';
import {
  ITEM_COUNTER_FIELDS,
  type ItemCounterField,
  type ItemCounters,
  type ItemCountersChange,
  itemRowSchema,
  type UserActivity,
  type UserActivityChange,
  userRowSchema,
} from '../layout/feed-entry.ts';
import type { UserRowData } from './state-tables.ts';

const ITEM_FIELD_SET = new Set<string>(ITEM_COUNTER_FIELDS);

const num = (value: unknown): number => {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
};

export function emptyItemCounters(): ItemCounters {
  return { imp: 0, clk: 0, conv: 0, convValue: 0, watchMs: 0, seen: 0, dimp: 0, dclk: 0, dts: 0 };
}

/** `imp|<itemId>|<segment>` / `clk|<itemId>|<segment>` → `itemId|segment` → [imp, clk]. */
export function parsePosteriorHash(hash: Record<string, string>): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const field in hash) {
    const kind = field.slice(0, 4);
    if (kind !== 'imp|' && kind !== 'clk|') continue;
    const key = field.slice(4);
    let pair = out.get(key);
    if (pair === undefined) {
      pair = [0, 0];
      out.set(key, pair);
    }
    pair[kind === 'imp|' ? 0 : 1] = num(hash[field]);
  }
  return out;
}

/** `<field>|<itemId>` → itemId → counters. */
export function parseItemHash(hash: Record<string, string>): Map<string, ItemCounters> {
  const out = new Map<string, ItemCounters>();
  for (const key in hash) {
    const bar = key.indexOf('|');
    if (bar < 0) continue;
    const field = key.slice(0, bar);
    if (!ITEM_FIELD_SET.has(field)) continue;
    const itemId = key.slice(bar + 1);
    let counters = out.get(itemId);
    if (counters === undefined) {
      counters = emptyItemCounters();
      out.set(itemId, counters);
    }
    counters[field as ItemCounterField] = num(hash[key]);
  }
  return out;
}

export function parseUserActivity(hash: Record<string, string>, recent: string[]): UserActivity | null {
  if (Object.keys(hash).length === 0 && recent.length === 0) return null;
  return {
    imp: num(hash.imp),
    clk: num(hash.clk),
    conv: num(hash.conv),
    convValue: num(hash.convValue),
    watchMs: num(hash.watchMs),
    lastActive: num(hash.lastActive),
    recent,
  };
}

export function parseItemRow(value: unknown): ItemInfo | null {
  const parsed = itemRowSchema.safeParse(typeof value === 'string' ? safeJson(value) : value);
  return parsed.success ? Object.freeze({ ...parsed.data, tags: Object.freeze(parsed.data.tags) }) : null;
}

export function parseUserRow(value: unknown): UserRowData | null {
  const parsed = userRowSchema.safeParse(typeof value === 'string' ? safeJson(value) : value);
  if (!parsed.success) return null;
  return { segment: parsed.data.segment, country: parsed.data.country, subscribed: parsed.data.subscribed };
}

/** Item counters after an entry: the entry's fields over the previous values. */
export function mergeItemCounters(
  previous: ItemCounters | undefined,
  fields: ItemCountersChange,
): ItemCounters {
  const merged = previous ? { ...previous } : emptyItemCounters();
  for (const f of ITEM_COUNTER_FIELDS) {
    const v = fields[f];
    if (typeof v === 'number' && Number.isFinite(v)) merged[f] = v;
  }
  return merged;
}

/** A user's activity after an entry: the entry's fields over the previous values. */
export function mergeUserActivity(
  previous: UserActivity | undefined,
  fields: UserActivityChange,
): UserActivity {
  return {
    imp: fields.imp ?? previous?.imp ?? 0,
    clk: fields.clk ?? previous?.clk ?? 0,
    conv: fields.conv ?? previous?.conv ?? 0,
    convValue: fields.convValue ?? previous?.convValue ?? 0,
    watchMs: fields.watchMs ?? previous?.watchMs ?? 0,
    lastActive: fields.lastActive ?? previous?.lastActive ?? 0,
    recent: fields.recent ?? previous?.recent ?? [],
  };
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
