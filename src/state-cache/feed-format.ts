/**
 * Parsing of what docs/state-layout.md stores: the snapshot hashes and the `d` field of change-feed entries.
 * Pure functions; a malformed value is skipped (and counted by the caller), never thrown into the server.
 */
import { z } from 'zod';
import type { ItemInfo } from '../decision/types.ts';
import type { ItemCounters, UserActivity, UserRowData } from './state-store.ts';

const ITEM_FIELDS = ['imp', 'clk', 'conv', 'convValue', 'watchMs', 'seen', 'dimp', 'dclk', 'dts'] as const;
type ItemField = (typeof ITEM_FIELDS)[number];
const ITEM_FIELD_SET = new Set<string>(ITEM_FIELDS);

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
    counters[field as ItemField] = num(hash[key]);
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

const itemRowSchema = z.object({
  itemId: z.string(),
  title: z.string(),
  category: z.string(),
  tags: z.array(z.string()).default([]),
  available: z.boolean(),
  createdAt: z.number(),
});

const userRowSchema = z.object({
  userId: z.string(),
  segment: z.string().nullable().default(null),
  country: z.string().nullable().default(null),
  subscribed: z.boolean().nullable().default(null),
});

export function parseItemRow(value: unknown): ItemInfo | null {
  const parsed = itemRowSchema.safeParse(typeof value === 'string' ? safeJson(value) : value);
  return parsed.success ? Object.freeze({ ...parsed.data, tags: Object.freeze(parsed.data.tags) }) : null;
}

export function parseUserRow(value: unknown): UserRowData | null {
  const parsed = userRowSchema.safeParse(typeof value === 'string' ? safeJson(value) : value);
  if (!parsed.success) return null;
  return { segment: parsed.data.segment, country: parsed.data.country, subscribed: parsed.data.subscribed };
}

const pair = z.tuple([z.number(), z.number()]);
/** Feed values are absolute; a field a batch did not change may be left out (the reader keeps its value). */
const itemDelta = z.record(z.number());
const userDelta = z
  .object({
    imp: z.number().optional(),
    clk: z.number().optional(),
    conv: z.number().optional(),
    convValue: z.number().optional(),
    watchMs: z.number().optional(),
    lastActive: z.number().optional(),
    recent: z.array(z.string()).optional(),
  })
  .passthrough();

/** Item counters after an entry: the entry's fields over the previous values. */
export function mergeItemCounters(
  previous: ItemCounters | undefined,
  fields: Record<string, number>,
): ItemCounters {
  const merged = previous ? { ...previous } : emptyItemCounters();
  for (const f of ITEM_FIELDS) {
    const v = fields[f];
    if (typeof v === 'number' && Number.isFinite(v)) merged[f] = v;
  }
  return merged;
}

/** A user's activity after an entry: the entry's fields over the previous values. */
export function mergeUserActivity(
  previous: UserActivity | undefined,
  fields: z.infer<typeof userDelta>,
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

/** The `d` field of a clickstream feed entry. */
export const clickFeedSchema = z.object({
  posterior: z.record(pair).default({}),
  item: z.record(itemDelta).default({}),
  user: z.record(userDelta.nullable()).default({}),
});

/** The `d` field of a `cdc.items` feed entry; a row that fails validation counts as removed. */
export const itemFeedSchema = z.object({ items: z.record(z.unknown()).default({}) });
/** The `d` field of a `cdc.users` feed entry. */
export const userFeedSchema = z.object({ users: z.record(z.unknown()).default({}) });

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Fields of one stream entry (`[f1, v1, f2, v2, ...]`) → the value of `name`. */
export function entryField(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Compares two stream ids (`ms-seq`). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = splitId(a);
  const [bm, bs] = splitId(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

function splitId(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  if (dash < 0) return [BigInt(id), 0n];
  return [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

/** Milliseconds part of a stream id. */
export function streamIdMs(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash < 0 ? id : id.slice(0, dash));
}
