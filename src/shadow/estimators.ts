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
 * examination hypothesis. The logged policy's own value is the plain mean Σ r_j / N. With each item's
 * probability of every slot under both policies (`positionBased`), the position-based estimators PBM-IPS,
 * PBM-SNIPS and PBM-DR (position-based.ts) pool an item's outcomes over the slots, the examination curve
 * estimated from the log in each resample.
 */
import { createRng } from '../stats/rng.ts';
import {
  estimateExamination,
  type PositionBasedRows,
  positionBasedEstimates,
  positionBasedWeights,
} from './position-based.ts';

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
  /** Each impression's item in every slot under both policies: the position-based estimators (absent: NaN). */
  positionBased?: PositionBasedRows;
}

/** Item-and-slot IPS, SNIPS, DR, then the position-based ones that pool an item's outcomes over the slots. */
export const ESTIMATORS = ['ips', 'snips', 'dr', 'pbm-ips', 'pbm-snips', 'pbm-dr'] as const;
export type EstimatorName = (typeof ESTIMATORS)[number];

export type PointEstimates = Record<EstimatorName, number> & {
  /** The logged policy's observed mean reward on the same impressions. */
  logged: number;
};

/** Scratch of the position-based estimators, reused across resamples. */
interface PositionBasedScratch {
  sums: Float64Array;
  examination: Float64Array;
  weight: Float64Array;
}

function positionBasedScratch(log: WeightedImpressions): PositionBasedScratch | null {
  const rows = log.positionBased;
  if (rows === undefined) return null;
  return {
    sums: new Float64Array(2 * rows.width),
    examination: new Float64Array(rows.width),
    weight: new Float64Array(log.slot.length),
  };
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
  scratch: PositionBasedScratch | null = positionBasedScratch(log),
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
  const pbm = { ips: Number.NaN, snips: Number.NaN, dr: Number.NaN };
  const rows = log.positionBased;
  if (rows !== undefined && scratch !== null) {
    const b = estimateExamination(rows, carousel, slot, multiplicity, scratch.sums, scratch.examination);
    positionBasedWeights(rows, carousel.length, b, scratch.weight);
    Object.assign(pbm, positionBasedEstimates(rows, carousel, slot, reward, multiplicity, scratch.weight, b));
  }
  return {
    ips: ips / total,
    snips,
    dr: dr / total,
    'pbm-ips': pbm.ips,
    'pbm-snips': pbm.snips,
    'pbm-dr': pbm.dr,
    logged: logged / total,
  };
}

function percentile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function interval(estimate: number, draws: Float64Array, confidence: number): Interval {
  if (draws.length === 0) return { estimate, se: Number.NaN, ci: [Number.NaN, Number.NaN] };
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
  /** Resamples (default 500; 0: the point estimates with NaN intervals). */
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
 * Every estimator (ESTIMATORS) and the logged value with percentile intervals from resampling carousels with
 * replacement (seeded), and each estimator's lift over the logged policy from the same resamples.
 */
export function bootstrapEstimates(
  log: WeightedImpressions,
  options: BootstrapOptions = {},
): BootstrapResult {
  const replicates = options.replicates ?? 500;
  const confidence = options.confidence ?? 0.95;
  const rng = createRng(options.seed ?? 1);
  const slots = new Float64Array(3 * Math.max(1, slotCount(log)));
  const scratch = positionBasedScratch(log);
  const point = pointEstimates(log, null, slots, scratch);
  const draws = Object.fromEntries(
    [...ESTIMATORS, 'logged' as const].map((name) => [name, new Float64Array(replicates)]),
  ) as Record<EstimatorName | 'logged', Float64Array>;
  const lifts = Object.fromEntries(ESTIMATORS.map((name) => [name, new Float64Array(replicates)])) as Record<
    EstimatorName,
    Float64Array
  >;
  const c = log.carousels;
  const multiplicity = new Float64Array(c);
  for (let b = 0; b < replicates; b++) {
    multiplicity.fill(0);
    for (let k = 0; k < c; k++) multiplicity[Math.floor(rng.next() * c)] += 1;
    const e = pointEstimates(log, multiplicity, slots, scratch);
    draws.logged[b] = e.logged;
    for (const name of ESTIMATORS) {
      draws[name][b] = e[name];
      lifts[name][b] = e[name] - e.logged;
    }
  }
  const estimates = {
    logged: interval(point.logged, draws.logged, confidence),
  } as BootstrapResult['estimates'];
  const lift = {} as BootstrapResult['lift'];
  for (const name of ESTIMATORS) {
    estimates[name] = interval(point[name], draws[name], confidence);
    lift[name] = interval(point[name] - point.logged, lifts[name], confidence);
  }
  return { estimates, lift, replicates };
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
