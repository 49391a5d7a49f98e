/**
 * The plain data the decision core works on, and the read-only view of learned state it needs: the vocabulary
 * every layer shares (bandit math, experiments, scoring, the state reader, the gateway, the simulator). The
 * gateway's live state reader implements `StateView`; the decision core (candidates → features → score →
 * explore → propensities) never performs I/O itself.
 */
import type { PendingCandidateSet } from './candidate-set.ts';
import type { PolicyName } from './policy-names.ts';

/** A live item of the pool, as kept from `cdc.items`. */
export interface ItemInfo {
  readonly itemId: string;
  readonly title: string;
  readonly category: string;
  readonly tags: readonly string[];
  readonly available: boolean;
  readonly createdAt: number;
}

/** Impressions and clicks of one arm (an item, globally or in one context segment). */
export interface ArmStats {
  impressions: number;
  clicks: number;
  /**
   * Σ p̂·e(slot) over the arm's impressions: the clicks the model expected of them (what `corrected-thompson`
   * compares clicks against). Absent where the state does not keep it.
   */
  expectedClicks?: number;
}

/** Aggregated item features (summed over the clickstream partitions). */
export interface ItemFeatures {
  impressions: number;
  clicks: number;
  conversions: number;
  conversionValue: number;
  watchMs: number;
  /** Last event time, ms since epoch (0 when never seen). */
  lastSeen: number;
  /** Click-through rate from exponentially decayed counts at the time of the call. */
  decayedCtr: number;
}

/** A user's attributes (from `cdc.users`) and activity (from the clickstream). */
export interface UserFeatures {
  readonly userId: string;
  segment: string | null;
  country: string | null;
  subscribed: boolean | null;
  impressions: number;
  clicks: number;
  conversions: number;
  watchMs: number;
  lastActive: number;
  /** Recently clicked itemIds, newest first. */
  recent: readonly string[];
}

/** Everything the decision core may read about the world; implemented by the change-feed cache. */
export interface StateView {
  /**
   * The live item pool (available items only). Return a new array when the pool changes (the decision core
   * caches per-pool indexes by array identity and length); callers never mutate it.
   */
  items(): readonly ItemInfo[];
  /** Posterior counts of `itemId` in `segment` (`'*'` = global); zeros when unseen. */
  arm(itemId: string, segment: string): ArmStats;
  itemFeatures(itemId: string): ItemFeatures | undefined;
  user(userId: string): UserFeatures | undefined;
}

export interface RequestContext {
  device: string | null;
  country: string | null;
  page: string | null;
}

export interface DecisionRequest {
  requestId: string;
  userId: string;
  slots: number;
  context: RequestContext;
  filters?: { category?: string };
}

export interface SlateItem {
  itemId: string;
  slot: number;
  /** Model-predicted click probability p̂. */
  score: number;
  /** The value the policy ranked by (θ for Thompson sampling, the UCB index, ...). */
  sample: number;
  /** Probability that the logging policy puts this item in this slot. */
  propensity: number;
}

/** How a slate's propensities were obtained (see docs/decision.md, "Propensities"). */
export interface PropensityInfo {
  method: 'exact' | 'monte-carlo' | 'integral';
  /** Monte Carlo replicates R (0 when exact). */
  replicates: number;
  /** Half-width ε with P(|estimate − true| ≤ ε) ≥ 1 − δ for each propensity (0 when exact). */
  errorBound: number;
  /** δ of that bound (0 when exact). */
  delta: number;
  /** The largest empirical standard error over the slate's slots (0 when exact). */
  standardError: number;
}

/** One layer's experiment assignment of the user. */
export interface ExperimentAssignment {
  layer: string;
  experiment: string;
  variant: string;
}

/** The shadow policy's slate for the same request, and what off-policy estimates of it need from the log. */
export interface ShadowDecision {
  policy: PolicyName;
  /** The shadow policy's own slate, with its propensities (never shown). */
  items: SlateItem[];
  /** How the propensities of `items` were obtained. */
  propensity?: PropensityInfo;
  /**
   * For each slot s of the shown slate, the probability that the shadow policy puts the shown item
   * `Decision.items[s]` in slot s: the target probability of IPS/SNIPS estimates of the shadow policy. 0 where
   * the shadow policy never puts that item there; Monte Carlo estimates are not floored.
   */
  shownPropensities: number[];
  /** How `shownPropensities` were obtained (the error bound of each, when Monte Carlo). */
  shownPropensity: PropensityInfo;
}

export interface Decision {
  requestId: string;
  userId: string;
  items: SlateItem[];
  policy: PolicyName;
  modelVersion: string;
  experiment: string | null;
  variant: string | null;
  /**
   * Context segment of the posteriors used: `${device}|${user.segment ?? 'unknown'}`, the device `other` where
   * `model.segmentDevices` does not list it and `unknown` where absent (decider.ts, segmentKey), e.g. `mobile|premium`. The gateway writes it into the impressions, and the topology counts each segment's
   * posterior as the impressions name it.
   */
  segment: string;
  /** Computed for the same request, logged, never shown. */
  shadow: ShadowDecision | null;
  /**
   * Server time of each step in µs: features, scoring (including the micro-batch wait), sampling (ranking
   * and slate), propensity, shadow (the shadow slate and its probabilities of the shown slate) and total.
   */
  timings: {
    featuresUs: number;
    scoringUs: number;
    samplingUs: number;
    propensityUs?: number;
    shadowUs?: number;
    totalUs?: number;
  };
  /** How the propensities of `items` were obtained. */
  propensity?: PropensityInfo;
  /** Every layer's experiment assignment (`experiment`/`variant` report the first). */
  assignments?: ExperimentAssignment[];
  /**
   * The feature rows the model scored for the shown items: `items.length × width` float32 values, slot order,
   * each row in the feature spec's column order. The event log writes them into the Carousel record.
   */
  features?: Float32Array;
  /** Hash of the feature spec those rows follow (`sha256:<hex>`, the serving model's manifest entry). */
  featureSpecHash?: string;
  /** The candidate set, for the sampled share of decisions that log it (src/decision/candidate-log.ts). */
  candidates?: PendingCandidateSet;
}
