/**
 * Applies a clickstream feed entry in its compact form (`c`, src/state/layout/feed-entry.ts) to the live reader's
 * tables without a JSON parser or a schema library: one split on the separator, then two passes over the tokens.
 * The first checks everything that can be wrong with text a Lua script wrote (an unknown tag, a record cut short, an
 * empty id, a number that is not one or is negative) and parses the numbers into a reused buffer; only an entry that
 * passes changes the tables, in the second pass. A refused entry changes nothing and says why.
 */
import {
  FEED_RECORDS,
  FEED_SEPARATOR,
  ITEM_COUNTER_FIELDS,
  type ItemCounters,
  USER_ACTIVITY_FIELDS,
  type UserActivity,
} from '../layout/feed-entry.ts';
import { emptyItemCounters } from './parse-state.ts';
import type { StateTables } from './state-tables.ts';

const ARM = FEED_RECORDS.arm;
const ITEM = FEED_RECORDS.item;
const USER = FEED_RECORDS.user;
const ITEM_FIELDS = ITEM_COUNTER_FIELDS.length;
const USER_FIELDS = USER_ACTIVITY_FIELDS.length;

/** A number token that must be there: a finite value ≥ 0, or -1 when it is not one. */
function required(token: string): number {
  if (token.length === 0) return -1;
  const v = +token;
  return v >= 0 && v !== Number.POSITIVE_INFINITY ? v : -1;
}

/** A number token that may be empty (unchanged → NaN), or -1 when it is not one. */
function optional(token: string): number {
  return token.length === 0 ? Number.NaN : required(token);
}

/** Why the tokens are not a well-formed entry, or null; fills `nums` (at least `t.length` long) for the apply pass. */
function check(t: string[], nums: Float64Array): string | null {
  const n = t.length;
  let i = 0;
  while (i < n) {
    const tag = t[i];
    if (tag === ARM.tag) {
      if (i + ARM.tokens >= n) return `the arm record at token ${i} is cut short`;
      if (t[i + 1].length === 0) return `the arm record at token ${i} has an empty key`;
      const imp = required(t[i + 2]);
      const clk = required(t[i + 3]);
      if (imp < 0 || clk < 0) return `the arm record at token ${i} has a count that is not a number ≥ 0`;
      nums[i + 2] = imp;
      nums[i + 3] = clk;
      i += ARM.tokens + 1;
    } else if (tag === ITEM.tag) {
      if (i + ITEM.tokens >= n) return `the item record at token ${i} is cut short`;
      if (t[i + 1].length === 0) return `the item record at token ${i} has an empty id`;
      for (let f = 0; f < ITEM_FIELDS; f++) {
        const v = optional(t[i + 2 + f]);
        if (v < 0)
          return `the item record at token ${i} has a ${ITEM_COUNTER_FIELDS[f]} that is not a number ≥ 0`;
        nums[i + 2 + f] = v;
      }
      i += ITEM.tokens + 1;
    } else if (tag === USER.tag) {
      if (i + USER.tokens >= n) return `the user record at token ${i} is cut short`;
      if (t[i + 1].length === 0) return `the user record at token ${i} has an empty id`;
      for (let f = 0; f < USER_FIELDS; f++) {
        const v = optional(t[i + 2 + f]);
        if (v < 0)
          return `the user record at token ${i} has a ${USER_ACTIVITY_FIELDS[f]} that is not a number ≥ 0`;
        nums[i + 2 + f] = v;
      }
      const k = optional(t[i + 2 + USER_FIELDS]);
      if (k < 0 || (!Number.isNaN(k) && !Number.isInteger(k))) {
        return `the user record at token ${i} has a count of recent items that is not an integer ≥ 0`;
      }
      const recent = Number.isNaN(k) ? 0 : k;
      if (i + USER.tokens + recent >= n) {
        return `the user record at token ${i} lists more recent items than the entry holds`;
      }
      nums[i + 2 + USER_FIELDS] = k;
      i += USER.tokens + 1 + recent;
    } else {
      return `unknown record tag ${JSON.stringify(tag.slice(0, 16))} at token ${i}`;
    }
  }
  return null;
}

/** Applies compact clickstream entries; holds the buffer their numbers are parsed into, reused entry after entry. */
export class CompactEntryApplier {
  /** Parsed numbers of the entry being applied, by token index; NaN: the field was left unchanged. */
  private numbers = new Float64Array(1024);

  constructor(private readonly tables: StateTables) {}

  /** Applies the compact entry `text` of a clickstream `partition`; null when applied, else why it was refused. */
  apply(partition: number, text: string): string | null {
    if (text.length === 0) return null;
    const t = text.split(FEED_SEPARATOR);
    if (this.numbers.length < t.length)
      this.numbers = new Float64Array(Math.max(t.length, this.numbers.length * 2));
    const why = check(t, this.numbers);
    if (why !== null) return why;
    applyChecked(this.tables, partition, t, this.numbers);
    return null;
  }
}

/** The second pass: `t` passed `check`, which parsed its numbers into `nums`. */
function applyChecked(tables: StateTables, partition: number, t: string[], nums: Float64Array): void {
  const n = t.length;
  let i = 0;
  while (i < n) {
    const tag = t[i];
    if (tag === ARM.tag) {
      tables.setArm(partition, t[i + 1], nums[i + 2], nums[i + 3]);
      i += ARM.tokens + 1;
    } else if (tag === ITEM.tag) {
      const itemId = t[i + 1];
      const counters: ItemCounters = tables.itemCounters(partition, itemId) ?? emptyItemCounters();
      for (let f = 0; f < ITEM_FIELDS; f++) {
        const v = nums[i + 2 + f];
        if (!Number.isNaN(v)) counters[ITEM_COUNTER_FIELDS[f]] = v;
      }
      tables.setItemCounters(partition, itemId, counters);
      i += ITEM.tokens + 1;
    } else {
      const userId = t[i + 1];
      const previous = tables.activityOf(userId);
      const at = i + 2;
      const k = nums[at + USER_FIELDS];
      const activity: UserActivity = {
        imp: pick(nums[at], previous?.imp),
        clk: pick(nums[at + 1], previous?.clk),
        conv: pick(nums[at + 2], previous?.conv),
        convValue: pick(nums[at + 3], previous?.convValue),
        watchMs: pick(nums[at + 4], previous?.watchMs),
        lastActive: pick(nums[at + 5], previous?.lastActive),
        recent: !Number.isNaN(k)
          ? t.slice(i + USER.tokens + 1, i + USER.tokens + 1 + k)
          : (previous?.recent ?? []),
      };
      tables.setUserActivity(partition, userId, activity);
      i += USER.tokens + 1 + (Number.isNaN(k) ? 0 : k);
    }
  }
}

/** The entry's value, or the previous one when the entry left the field unchanged (NaN). */
function pick(value: number, previous: number | undefined): number {
  return Number.isNaN(value) ? (previous ?? 0) : value;
}
