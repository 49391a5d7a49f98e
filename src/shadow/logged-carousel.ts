/**
 * What a shadow test reads: one logged carousel with its outcomes, whatever the source (a recording, the
 * archive's Carousel and feedback records, or the simulator). Plain data.
 */
import type { CandidateSet } from '../domain/candidate-set.ts';
import type { PolicyName } from '../domain/policy-names.ts';

export interface LoggedItem {
  itemId: string;
  slot: number;
  /** The serving model's p̂. */
  score: number;
  /** The logging policy's probability of this item in this slot, in (0, 1]. */
  propensity: number;
  /** The live shadow policy's probability of this item in this slot; null without a shadow policy. */
  shadowPropensity: number | null;
}

export interface LoggedCarousel {
  requestId: string;
  userId: string;
  /** ms since epoch (or since the start of a recording). */
  timestamp: number;
  /** The logging policy. */
  policy: PolicyName;
  modelVersion: string;
  /** The experiments' live shadow policy of the decision, if any. */
  shadowPolicy: PolicyName | null;
  /** The shown items in slot order. */
  items: LoggedItem[];
  /** The whole candidate set, for the sampled share of carousels that logged it. */
  candidates: CandidateSet | null;
  /** Per shown slot: 1 when the item was clicked. */
  clicks: number[];
  /** Per shown slot: conversions. */
  conversions: number[];
  /** Per shown slot: watch time in seconds. */
  watchSeconds: number[];
}

/** The rewards a shadow test estimates per impression. */
export const METRICS = ['ctr', 'conversions', 'watchSeconds'] as const;
export type Metric = (typeof METRICS)[number];

/** The reward of `metric` at slot s of a carousel. */
export function rewardsOf(carousel: LoggedCarousel, metric: Metric): number[] {
  return metric === 'ctr'
    ? carousel.clicks
    : metric === 'conversions'
      ? carousel.conversions
      : carousel.watchSeconds;
}
