/**
 * Off-policy estimators of a slate policy's reward per impression at the item-and-slot level, over logged
 * carousels, with intervals from a bootstrap that resamples whole carousels. Each shown impression j (carousel
 * c, slot s, item a) carries
 *
 *   w_j  = π(a at s) / μ(a at s)        the candidate's over the logging policy's probability (clipped if asked)
 *   r_j                                 the reward observed (a click, conversions, watch seconds)
 *   r̂_j  = r̂(a, s)                     the reward model's estimate for the logged item in its slot
 *   d_j  = Σᵢ π(i at s)·r̂(i, s)        the reward model's expected reward in slot s under the candidate
 *
 * and with N impressions (S_s of them in slot s)
 *
 *   IPS   = Σ w_j r_j / N
 *   SNIPS = Σ_s (S_s / N) · Σ_{j in s} w_j r_j / Σ_{j in s} w_j      (self-normalized per slot, as E[w] = 1 is)
 *   DR    = Σ (d_j + w_j (r_j − r̂_j)) / N
 *
 * These are unbiased (SNIPS consistent) when a click depends on the item and its slot only, as under the
 * examination hypothesis. The logged policy's own value is the plain mean Σ r_j / N.
 */
import { createRng } from '../stats/rng.ts';

/** The per-impression arrays of one candidate and one reward, in carousel order. */
export interface WeightedImpressions {
  /** Number of carousels; `carousel[j]` is in [0, carousels). */
  carousels: number;
  carousel: Int32Array;
  slot: Int32Array;
  weight: Float64Array;
  reward: Float64Array;
  rewardModel: Float64Array;
  direct: Float64Array;
}

export const ESTIMATORS = ['ips', 'snips', 'dr'] as const;
export type EstimatorName = (typeof ESTIMATORS)[number];

export interface PointEstimates {
  ips: number;
  snips: number;
  dr: number;
  /** The logged policy's observed mean reward on the same impressions. */
  logged: number;
}

export interface Interval {
  estimate: number;
  /** Bootstrap standard deviation. */
  se: number;
  /** Percentile interval. */
  ci: [number, number];
}

export interface BootstrapResult {
  estimates: Record<EstimatorName | 'logged', Interval>;
  /** Candidate − logged, resampled together. */
  lift: Record<EstimatorName, Interval>;
  replicates: number;
}

/**
 * The point estimates with carousel c counted `multiplicity[c]` times (null: once each). Per-slot sums are kept
 * in `slots` scratch of at least (largest slot + 1) × 3 entries.
 */
export function pointEstimates(
  log: WeightedImpressions,
  multiplicity: Float64Array | null,
  slots: Float64Array,
): PointEstimates {
  slots.fill(0);
  let total = 0;
  let ips = 0;
  let dr = 0;
  let logged = 0;
  const { carousel, slot, weight, reward, rewardModel, direct } = log;
  for (let j = 0; j < carousel.length; j++) {
    const m = multiplicity === null ? 1 : multiplicity[carousel[j]];
    if (m === 0) continue;
    const w = weight[j];
    const r = reward[j];
    total += m;
    ips += m * w * r;
    dr += m * (direct[j] + w * (r - rewardModel[j]));
    logged += m * r;
    const s = 3 * slot[j];
    slots[s] += m;
    slots[s + 1] += m * w * r;
    slots[s + 2] += m * w;
  }
  let snips = 0;
  for (let s = 0; s < slots.length; s += 3) {
    if (slots[s + 2] > 0) snips += (slots[s] / total) * (slots[s + 1] / slots[s + 2]);
  }
  return { ips: ips / total, snips, dr: dr / total, logged: logged / total };
}

function percentile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function interval(estimate: number, draws: Float64Array, confidence: number): Interval {
  let mean = 0;
  for (const x of draws) mean += x;
  mean /= draws.length;
  let ss = 0;
  for (const x of draws) ss += (x - mean) ** 2;
  const sorted = Float64Array.from(draws).sort();
  const tail = (1 - confidence) / 2;
  return {
    estimate,
    se: Math.sqrt(ss / Math.max(1, draws.length - 1)),
    ci: [percentile(sorted, tail), percentile(sorted, 1 - tail)],
  };
}

export interface BootstrapOptions {
  /** Resamples (default 500). */
  replicates?: number;
  /** Confidence of the percentile intervals (default 0.95). */
  confidence?: number;
  /** Seed of the resampling (default 1): the same log and seed give the same intervals. */
  seed?: number;
}

/** Largest slot + 1 over the impressions. */
function slotCount(log: WeightedImpressions): number {
  let most = 0;
  for (let j = 0; j < log.slot.length; j++) if (log.slot[j] >= most) most = log.slot[j] + 1;
  return most;
}

/**
 * IPS, SNIPS, DR and the logged value with percentile intervals from resampling carousels with replacement
 * (seeded), and each estimator's lift over the logged policy from the same resamples.
 */
export function bootstrapEstimates(
  log: WeightedImpressions,
  options: BootstrapOptions = {},
): BootstrapResult {
  const replicates = options.replicates ?? 500;
  const confidence = options.confidence ?? 0.95;
  const rng = createRng(options.seed ?? 1);
  const slots = new Float64Array(3 * Math.max(1, slotCount(log)));
  const point = pointEstimates(log, null, slots);
  const draws = {
    ips: new Float64Array(replicates),
    snips: new Float64Array(replicates),
    dr: new Float64Array(replicates),
    logged: new Float64Array(replicates),
  };
  const lifts = {
    ips: new Float64Array(replicates),
    snips: new Float64Array(replicates),
    dr: new Float64Array(replicates),
  };
  const c = log.carousels;
  const multiplicity = new Float64Array(c);
  for (let b = 0; b < replicates; b++) {
    multiplicity.fill(0);
    for (let k = 0; k < c; k++) multiplicity[Math.floor(rng.next() * c)] += 1;
    const e = pointEstimates(log, multiplicity, slots);
    draws.ips[b] = e.ips;
    draws.snips[b] = e.snips;
    draws.dr[b] = e.dr;
    draws.logged[b] = e.logged;
    lifts.ips[b] = e.ips - e.logged;
    lifts.snips[b] = e.snips - e.logged;
    lifts.dr[b] = e.dr - e.logged;
  }
  return {
    estimates: {
      ips: interval(point.ips, draws.ips, confidence),
      snips: interval(point.snips, draws.snips, confidence),
      dr: interval(point.dr, draws.dr, confidence),
      logged: interval(point.logged, draws.logged, confidence),
    },
    lift: {
      ips: interval(point.ips - point.logged, lifts.ips, confidence),
      snips: interval(point.snips - point.logged, lifts.snips, confidence),
      dr: interval(point.dr - point.logged, lifts.dr, confidence),
    },
    replicates,
  };
}

export interface WeightDiagnostics {
  /** Kish's effective sample size (Σw)² / Σw² over the impressions: how many on-policy impressions the log is worth. */
  effectiveSampleSize: number;
  largestWeight: number;
  meanWeight: number;
}

export function weightDiagnostics(weight: Float64Array): WeightDiagnostics {
  let sum = 0;
  let squares = 0;
  let largest = 0;
  for (const w of weight) {
    sum += w;
    squares += w * w;
    if (w > largest) largest = w;
  }
  return {
    effectiveSampleSize: squares > 0 ? (sum * sum) / squares : 0,
    largestWeight: largest,
    meanWeight: weight.length > 0 ? sum / weight.length : 0,
  };
}
