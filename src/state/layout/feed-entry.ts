/**
 * The change-feed entry of docs/state-layout.md ("Change feed") and the stored shapes it carries, defined once: the
 * writer appends entries (the clickstream script builds `d` in Lua, CDC batches encode it in TypeScript), the live
 * reader validates them with these schemas, and the tests read them with the same types. Each type is derived from
 * its schema, so the two cannot drift apart.
 *
 * One entry per applied batch in `P{<topic>:<p>}:feed`, fields `o` (the batch's last offset) and the absolute values
 * the batch changed: `c` (clickstream feeds: the compact text below, read without a JSON parser) or `d` (JSON: CDC
 * feeds, and a clickstream entry whose ids hold the separator, or written before `c` existed). An item or user in an
 * entry holds only the fields the batch changed; a reader keeps its previous value of a field left out. A
 * clickstream entry of a batch with clicks also has `t`: Kafka's timestamps (ms) of its first 64 clicks,
 * space-separated, which tell a reader how long a click took to reach it.
 *
 * `c`: tokens joined by the unit separator U+001F (`FEED_SEPARATOR`), records one after the other, each opened by
 * its tag; numbers as Lua prints them (14 significant digits), an empty token for a field the batch left unchanged:
 *
 *   a <itemId|segment> <imp> <clk>                                          posterior of an arm
 *   i <itemId> <imp> <clk> <conv> <convValue> <watchMs> <seen> <dimp> <dclk> <dts>   (ITEM_COUNTER_FIELDS order)
 *   u <userId> <imp> <clk> <conv> <convValue> <watchMs> <lastActive> <k> <itemId>×k  (USER_ACTIVITY_FIELDS, then the
 *                                                                           k recent items newest first; k empty:
 *                                                                           recent unchanged)
 *
 * An entry with no change is the empty text. Every number is ≥ 0.
 */
import { z } from 'zod';

/**
 * Field names of a feed entry (a Redis stream entry `o <offset> c <compact>` or `o <offset> d <json>`, and on a
 * clickstream feed `t <ms> <ms>…` when the batch had clicks: Kafka's timestamps of its first 64 clicks).
 */
export const FEED_ENTRY_FIELDS = { offset: 'o', data: 'd', compact: 'c', clickTimes: 't' } as const;

/** Separator of the tokens of a compact (`c`) entry: U+001F, the ASCII unit separator. */
export const FEED_SEPARATOR = '\x1f';

/** Record tags of a compact entry and the tokens each takes after its tag (users: plus their recent items). */
export const FEED_RECORDS = {
  arm: { tag: 'a', tokens: 3 },
  item: { tag: 'i', tokens: 10 },
  user: { tag: 'u', tokens: 8 },
} as const;

/** The counter fields of a user in a compact entry, in order (then the count of recent items). */
export const USER_ACTIVITY_FIELDS = ['imp', 'clk', 'conv', 'convValue', 'watchMs', 'lastActive'] as const;

/** Fields of an item's counters (`<field>|<itemId>` in `P{clickstream:p}:item`). */
export const ITEM_COUNTER_FIELDS = [
  'imp',
  'clk',
  'conv',
  'convValue',
  'watchMs',
  'seen',
  'dimp',
  'dclk',
  'dts',
] as const;
export type ItemCounterField = (typeof ITEM_COUNTER_FIELDS)[number];
/** One partition's counters of an item; `dimp`/`dclk` are decayed counts valid at time `dts` (ms). */
export type ItemCounters = Record<ItemCounterField, number>;

/** A user's activity in a clickstream partition: `P{clickstream:p}:user:<id>` plus `recent:<id>` (newest first). */
export const userActivitySchema = z.object({
  imp: z.number(),
  clk: z.number(),
  conv: z.number(),
  convValue: z.number(),
  watchMs: z.number(),
  lastActive: z.number(),
  recent: z.array(z.string()),
});
export type UserActivity = z.infer<typeof userActivitySchema>;

/** A row of `P{cdc.items:q}:items` (JSON) and of a `cdc.items` feed entry. */
export const itemRowSchema = z.object({
  itemId: z.string(),
  title: z.string(),
  category: z.string(),
  tags: z.array(z.string()).default([]),
  available: z.boolean(),
  createdAt: z.number(),
});
export type StoredItemRow = z.output<typeof itemRowSchema>;

/** A row of `P{cdc.users:q}:users` (JSON) and of a `cdc.users` feed entry. */
export const userRowSchema = z.object({
  userId: z.string(),
  segment: z.string().nullable().default(null),
  country: z.string().nullable().default(null),
  subscribed: z.boolean().nullable().default(null),
});
export type StoredUserRow = z.output<typeof userRowSchema>;

/** An item in a clickstream entry: the counters the batch changed (`ItemCounterField` → value; `seen` always). */
export const itemCountersChangeSchema = z.record(z.number());
export type ItemCountersChange = z.output<typeof itemCountersChangeSchema>;

/** A user in a clickstream entry: the activity fields the batch changed (`lastActive` always). */
export const userActivityChangeSchema = userActivitySchema.partial().passthrough();
export type UserActivityChange = z.output<typeof userActivityChangeSchema>;

/** `d` of a clickstream entry: posteriors `itemId|segment` → [imp, clk], items and users by id (null: removed). */
export const clickstreamFeedDataSchema = z.object({
  posterior: z.record(z.tuple([z.number(), z.number()])).default({}),
  item: z.record(itemCountersChangeSchema).default({}),
  user: z.record(userActivityChangeSchema.nullable()).default({}),
});
export type ClickstreamFeedData = z.output<typeof clickstreamFeedDataSchema>;

/**
 * `d` of a `cdc.items` entry: itemId → row (`available: false` when no longer shown), or null when deleted. A row is
 * validated on its own (`itemRowSchema`); one that fails counts as removed.
 */
export const itemsFeedDataSchema = z.object({ items: z.record(z.unknown()).default({}) });
export type ItemsFeedData = z.output<typeof itemsFeedDataSchema>;

/** `d` of a `cdc.users` entry: userId → row, or null when deleted. */
export const usersFeedDataSchema = z.object({ users: z.record(z.unknown()).default({}) });
export type UsersFeedData = z.output<typeof usersFeedDataSchema>;
