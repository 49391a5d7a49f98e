/**
 * Propensities: the probability that the logging policy puts each shown item in its slot (the per-slot
 * marginal P(item i at slot s)), what inverse-propensity estimates of other policies divide by.
 *
 * Exact where the policy allows it:
 * - greedy and UCB1 rank by a deterministic value with ties broken uniformly at random: an item whose value
 *   is shared by g candidates, with `above` candidates strictly better, sits in each slot of
 *   [above, above + g) with probability 1/g, elsewhere with probability 0;
 * - random: every slot holds a given candidate with probability 1/n;
 * - ε-greedy: (1 − ε)·P_greedy + ε/n.
 *
 * Thompson sampling by seeded Monte Carlo: the rankings are redrawn R times from the same posteriors and p̃
 * is the mean of R terms in [0, 1] whose expectation is p (see thompson-propensity.ts). p̃ has standard error
 * ≤ 1/(2√R), and by Hoeffding |p̃ − p| ≤ √(ln(2/δ) / (2R)) + ε with probability ≥ 1 − δ, where ε ≤ 1e-4 bounds
 * the bias of leaving out candidates that practically never reach the slate (0 when none is left out). An
 * estimate below the floor (default 1e-4) is reported as the floor, which adds a bias of at most the floor
 * and keeps every logged propensity positive.
 */
import { sampleBeta } from '../stats/beta-sampler.ts';
import type { Rng } from '../stats/rng.ts';
import { selectTopK, tieBlock } from './slate.ts';

export interface MonteCarloSettings {
  /** Replicates R. */
  readonly replicates: number;
  /** Confidence parameter δ of the reported Hoeffding bound. */
  readonly delta: number;
  /** Smallest propensity reported for a shown item; default 1e-4. */
  readonly floor?: number;
  /**
   * Largest total tail mass of the candidates left out of the replicates (see thompson-propensity.ts); it
   * bounds the bias this adds. Default 1e-4; 0 draws every candidate.
   */
  readonly pruneMass?: number;
}

/** How a slate's propensities were obtained, logged with the decision. */
export interface PropensityMethod {
  readonly method: 'exact' | 'monte-carlo' | 'integral';
  /** Monte Carlo replicates (0 when exact). */
  readonly replicates: number;
  /** Half-width ε with P(|p̃ − p| ≤ ε) ≥ 1 − δ per propensity (0 when exact). */
  readonly errorBound: number;
  /** δ of that bound (0 when exact). */
  readonly delta: number;
  /** The largest empirical standard error over the slate's slots (0 when exact). */
  readonly standardError: number;
}

export const EXACT: PropensityMethod = Object.freeze({
  method: 'exact',
  replicates: 0,
  errorBound: 0,
  delta: 0,
  standardError: 0,
});

/** Hoeffding half-width √(ln(2/δ) / (2R)) of a mean of R values in [0, 1]. */
export function hoeffdingBound(replicates: number, delta: number): number {
  return Math.sqrt(Math.log(2 / delta) / (2 * replicates));
}

/** The method record of a Monte Carlo estimate; `prunedMass` (a bias bound) is added to the Hoeffding bound. */
export function monteCarloMethod(
  settings: MonteCarloSettings,
  standardError: number,
  prunedMass = 0,
): PropensityMethod {
  return {
    method: 'monte-carlo',
    replicates: settings.replicates,
    errorBound: hoeffdingBound(settings.replicates, settings.delta) + prunedMass,
    delta: settings.delta,
    standardError,
  };
}

/**
 * Largest error of Thompson sampling's integrated propensities seen against high-precision references (see
 * thompson-integral.ts and docs/decision.md), reported as part of their error bound.
 */
export const INTEGRAL_QUADRATURE_ERROR = 2e-3;

/** The method record of integrated propensities; `tailBias` bounds the mass left out. */
export function integralMethod(tailBias: number): PropensityMethod {
  return {
    method: 'integral',
    replicates: 0,
    errorBound: INTEGRAL_QUADRATURE_ERROR + tailBias,
    delta: 0,
    standardError: 0,
  };
}

/** Reusable scratch for propensity computations over up to `capacity` candidates. */
export class PropensityScratch {
  draws: Float64Array;
  order: Int32Array;
  sums: Float64Array;
  squares: Float64Array;
  logNorms: Float64Array;
  /** Candidate order of the Monte Carlo: kept candidates first, pruned ones after. */
  perm: Int32Array;
  /** Slot of each candidate in the shown slate, or -1. */
  slotOf: Int32Array;
  /** Position in `perm` of each slot's item. */
  position: Int32Array;
  readonly block = new Int32Array(2);
  readonly mass = new Float64Array(1);
  /** Tail mass P(θ > D) per candidate during pruning (−1: not screened). */
  tails: Float64Array;
  private atomBuffer = new Float64Array(32);

  /** Per slot s, P(θ rounds to 0) at 2s and P(θ rounds to 1.0) at 2s + 1 of the slot's item. */
  atoms(slots: number): Float64Array {
    if (this.atomBuffer.length < 2 * slots) this.atomBuffer = new Float64Array(2 * slots);
    return this.atomBuffer;
  }

  constructor(capacity: number) {
    this.draws = new Float64Array(capacity);
    this.order = new Int32Array(capacity);
    this.sums = new Float64Array(capacity);
    this.squares = new Float64Array(capacity);
    this.logNorms = new Float64Array(capacity);
    this.perm = new Int32Array(capacity);
    this.slotOf = new Int32Array(capacity).fill(-1);
    this.position = new Int32Array(capacity);
    this.tails = new Float64Array(capacity);
  }

  ensure(n: number): void {
    if (this.draws.length >= n) return;
    const size = Math.max(n, this.draws.length * 2);
    this.draws = new Float64Array(size);
    this.order = new Int32Array(size);
    this.sums = new Float64Array(size);
    this.squares = new Float64Array(size);
    this.logNorms = new Float64Array(size);
    this.perm = new Int32Array(size);
    this.slotOf = new Int32Array(size).fill(-1);
    this.position = new Int32Array(size);
    this.tails = new Float64Array(size);
  }
}

/** Greedy / UCB1: P(shown[s] at s) under a deterministic ranking by `values` with uniform random tie-breaks. */
export function rankedPropensities(
  values: Float64Array,
  n: number,
  shown: Int32Array,
  k: number,
  scratch: PropensityScratch,
  out: Float64Array,
): void {
  const block = scratch.block;
  for (let s = 0; s < k; s++) {
    tieBlock(values, n, shown[s], block);
    out[s] = s >= block[0] && s < block[0] + block[1] ? 1 / block[1] : 0;
  }
}

/** Uniformly random slates: each candidate is in each slot with probability 1/n. */
export function uniformPropensities(n: number, k: number, out: Float64Array): void {
  for (let s = 0; s < k; s++) out[s] = 1 / n;
}

/** ε-greedy: (1 − ε)·P_greedy(shown[s] at s) + ε/n, with `means` the greedy ranking values. */
export function epsilonGreedyPropensities(
  means: Float64Array,
  n: number,
  shown: Int32Array,
  k: number,
  epsilon: number,
  scratch: PropensityScratch,
  out: Float64Array,
): void {
  rankedPropensities(means, n, shown, k, scratch, out);
  for (let s = 0; s < k; s++) out[s] = (1 - epsilon) * out[s] + epsilon / n;
}

/**
 * Thompson sampling by plain Monte Carlo: the share of R redrawn rankings that put the shown item in its slot.
 * Slower to converge than `thompsonPropensities`; kept as its independent reference.
 */
export function thompsonPropensitiesByCounting(
  alpha: Float64Array,
  beta: Float64Array,
  n: number,
  shown: Int32Array,
  k: number,
  rng: Rng,
  replicates: number,
  scratch: PropensityScratch,
  out: Float64Array,
): void {
  scratch.ensure(n);
  const draws = scratch.draws;
  const order = scratch.order;
  const sums = scratch.sums;
  for (let s = 0; s < k; s++) sums[s] = 0;
  for (let r = 0; r < replicates; r++) {
    for (let i = 0; i < n; i++) draws[i] = sampleBeta(rng, alpha[i], beta[i]);
    selectTopK(draws, null, n, k, order);
    for (let s = 0; s < k; s++) if (order[s] === shown[s]) sums[s]++;
  }
  for (let s = 0; s < k; s++) out[s] = sums[s] / replicates;
}
