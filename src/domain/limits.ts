/**
 * The finite range of every number a client or a Kafka record may carry into croupier's state. The gateway
 * checks a message against these before it logs anything, and the stream topology checks every record again
 * (a record out of range is dead-lettered), so no value can make a running sum in Redis overflow to ±Infinity.
 * docs/protocol.md lists the same table.
 */

export interface NumericRange {
  readonly min: number;
  readonly max: number;
  /** Whether `min` itself is excluded. */
  readonly minExclusive?: boolean;
  /** Whether the value must be an integer. */
  readonly integer?: boolean;
}

/** Most items one carousel shows. */
export const MAX_SLOTS = 100;

/** 7 days: a watch longer than that is a broken client timer, not a viewer. */
const WEEK_MS = 7 * 24 * 3600 * 1000;

export const LIMITS = Object.freeze({
  /** A conversion's value (an order total in the shop's currency, say). */
  conversionValue: { min: 0, max: 1e9 },
  /** Watch time of one watch event. */
  watchTimeMs: { min: 0, max: WEEK_MS, integer: true },
  /** Slots requested for one carousel. */
  slots: { min: 1, max: MAX_SLOTS, integer: true },
  /** A shown item's slot (0-based). */
  slot: { min: 0, max: MAX_SLOTS - 1, integer: true },
  /** The probability with which a policy showed an item in its slot. */
  propensity: { min: 0, max: 1, minExclusive: true },
  /** A probability that may be 0 (a shadow policy's probability of the logged slot). */
  probability: { min: 0, max: 1 },
  /** A model score (pCTR). */
  score: { min: 0, max: 1 },
  /** Event time in ms since the epoch: at most the year 2286. */
  timestampMs: { min: 0, max: 1e13, integer: true },
} satisfies Record<string, NumericRange>);

export type LimitName = keyof typeof LIMITS;

/**
 * The operator's policy parameters (the config's `model.*` and each experiment variant's overrides), finite so
 * that the Beta prior's shapes and UCB1's bonus stay finite: a variant with `priorStrength: 1e308` was accepted
 * by `PUT /admin/experiments` and every carousel of its users then failed (`beta is Infinity`).
 */
export const POLICY_LIMITS = Object.freeze({
  /**
   * Strength m of the model-informed Beta prior, in impressions. At least 1e-6: the Beta shapes are about m·p̂/τ₀
   * (p̂ ≥ 1e-6), and shapes near 1e-300 make a draw 0 or 1 and the propensity integral never finish.
   */
  priorStrength: { min: 1e-6, max: 1e6 },
  /** Temperature τ₀ of Thompson sampling's posterior for an arm without impressions (1: plain); at least 1e-6, as above. */
  thompsonTemperature: { min: 1e-6, max: 1 },
  /** Exploration weight c of UCB1. */
  ucbC: { min: 0, max: 1e6 },
  /** A variant's share of its experiment, relative to the other variants' weights. */
  variantWeight: { min: 0, max: 1e6, minExclusive: true },
} satisfies Record<string, NumericRange>);

/** Whether `n` is a finite number inside `range`. */
export function inRange(n: unknown, range: NumericRange): n is number {
  if (typeof n !== 'number' || !Number.isFinite(n)) return false;
  if (range.integer === true && !Number.isInteger(n)) return false;
  if (n < range.min || n > range.max) return false;
  return !(range.minExclusive === true && n === range.min);
}

/** `[min, max]` (or `(min, max]`) for error messages. */
export function describeRange(range: NumericRange): string {
  const kind = range.integer === true ? 'an integer in ' : '';
  return `${kind}${range.minExclusive === true ? '(' : '['}${range.min}, ${range.max}]`;
}

/** Longest id (user, request, item, event) in characters. */
export const MAX_ID_LENGTH = 128;

/**
 * Devices whose posteriors are kept apart (`model.segmentDevices`); a request from any other device counts as
 * `other`. The device is the client's to say, so without a list each made-up device would open new arms in Redis.
 */
export const DEFAULT_SEGMENT_DEVICES: readonly string[] = [
  'mobile',
  'desktop',
  'tablet',
  'tv',
  'web',
  'ios',
  'android',
];

/** The segment's device a request's device counts as: itself when listed, `other` when not, `unknown` when absent. */
export const OTHER_DEVICE = 'other';

/**
 * Most characters of text a catalog or user row (a CDC change's row) holds in all its strings together (title,
 * category, tags, segment, …): every row lands in Redis and in the gateway's cache, so one row of megabytes would
 * cost that in both for as long as it lives.
 */
export const MAX_ROW_CHARS = 16_384;

/**
 * What an id may hold: printable characters without `|` (the state layout's separator), whitespace, control,
 * format (zero-width) or lone surrogate characters, so an id prints and compares as it reads.
 */
export const ID_PATTERN = /^[^|\s\p{C}]+$/u;

/** Whether `id` is a valid id: 1 to MAX_ID_LENGTH characters of ID_PATTERN. */
export function isValidId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_ID_LENGTH && ID_PATTERN.test(id);
}
