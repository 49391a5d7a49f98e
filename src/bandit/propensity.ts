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
 * is the mean of R terms in [0, 1] whose expectation is p (see `thompsonPropensities`). p̃ is unbiased with
 * standard error ≤ 1/(2√R), and by Hoeffding |p̃ − p| ≤ √(ln(2/δ) / (2R)) with probability ≥ 1 − δ. An
 * estimate below the floor (default 1/(2R)) is reported as the floor, which adds a bias of at most the floor
 * and keeps every logged propensity positive.
 */
import { sampleBeta } from '../stats/beta-sampler.ts';
import type { Rng } from '../stats/rng.ts';
import { logBeta } from '../stats/special.ts';
import { betaCdf } from './beta-cdf.ts';
import { selectTopK, tieBlock } from './slate.ts';

export interface MonteCarloSettings {
  /** Replicates R. */
  readonly replicates: number;
  /** Confidence parameter δ of the reported Hoeffding bound. */
  readonly delta: number;
  /** Smallest propensity reported for a shown item; default 1/(2R). */
  readonly floor?: number;
}

/** How a slate's propensities were obtained, logged with the decision. */
export interface PropensityMethod {
  readonly method: 'exact' | 'monte-carlo';
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

export function monteCarloMethod(settings: MonteCarloSettings, standardError: number): PropensityMethod {
  return {
    method: 'monte-carlo',
    replicates: settings.replicates,
    errorBound: hoeffdingBound(settings.replicates, settings.delta),
    delta: settings.delta,
    standardError,
  };
}

/** Reusable scratch for propensity computations over up to `capacity` candidates. */
export class PropensityScratch {
  draws: Float64Array;
  order: Int32Array;
  sums: Float64Array;
  squares: Float64Array;
  logNorms: Float64Array;
  readonly block = new Int32Array(2);

  constructor(capacity: number) {
    this.draws = new Float64Array(capacity);
    this.order = new Int32Array(capacity);
    this.sums = new Float64Array(capacity);
    this.squares = new Float64Array(capacity);
    this.logNorms = new Float64Array(capacity);
  }

  ensure(n: number): void {
    if (this.draws.length >= n) return;
    const size = Math.max(n, this.draws.length * 2);
    this.draws = new Float64Array(size);
    this.order = new Int32Array(size);
    this.sums = new Float64Array(size);
    this.squares = new Float64Array(size);
    this.logNorms = new Float64Array(size);
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
 * Thompson sampling, by conditional (Rao–Blackwellized) Monte Carlo. Each of R replicates draws θ for every
 * candidate from Beta(α, β); for the shown item i in slot s it then adds the exact probability, given the
 * other candidates' draws, that θᵢ falls between the s-th and (s+1)-th largest of them:
 * Fᵢ(t_s) − Fᵢ(t_{s+1}) with Fᵢ the Beta(αᵢ, βᵢ) CDF (t_0 = 1). Each term lies in [0, 1] and has mean
 * P(i at s), so the Hoeffding bound of the file comment holds, and its variance never exceeds that of
 * counting hits (usually far below).
 */
export function thompsonPropensities(
  alpha: Float64Array,
  beta: Float64Array,
  n: number,
  shown: Int32Array,
  k: number,
  rng: Rng,
  settings: MonteCarloSettings,
  scratch: PropensityScratch,
  out: Float64Array,
): number {
  scratch.ensure(n + 1);
  const draws = scratch.draws;
  const order = scratch.order;
  const sums = scratch.sums;
  const squares = scratch.squares;
  const replicates = settings.replicates;
  const depth = Math.min(k + 1, n);
  const logNorms = scratch.logNorms;
  for (let s = 0; s < k; s++) {
    sums[s] = 0;
    squares[s] = 0;
    logNorms[s] = logBeta(alpha[shown[s]], beta[shown[s]]);
  }
  for (let r = 0; r < replicates; r++) {
    for (let i = 0; i < n; i++) draws[i] = sampleBeta(rng, alpha[i], beta[i]);
    selectTopK(draws, null, n, depth, order);
    for (let s = 0; s < k; s++) {
      const item = shown[s];
      // t_s and t_{s+1}: the s-th and (s+1)-th largest draws of the others (1-based; t_0 = 1, beyond n−1 = 0).
      let upper = 1;
      let lower = 0;
      let seen = 0;
      for (let j = 0; j < depth; j++) {
        const other = order[j];
        if (other === item) continue;
        seen++;
        if (seen === s) upper = draws[other];
        else if (seen === s + 1) {
          lower = draws[other];
          break;
        }
      }
      const a = alpha[item];
      const b = beta[item];
      const top = betaCdf(a, b, logNorms[s], upper);
      const bottom = betaCdf(a, b, logNorms[s], lower);
      const term = top - bottom;
      sums[s] += term;
      squares[s] += term * term;
    }
  }
  const floor = settings.floor ?? 1 / (2 * replicates);
  let worst = 0;
  for (let s = 0; s < k; s++) {
    const p = sums[s] / replicates;
    out[s] = Math.max(p, floor);
    if (replicates > 1) {
      const variance = Math.max(0, (squares[s] - replicates * p * p) / (replicates - 1));
      worst = Math.max(worst, Math.sqrt(variance / replicates));
    }
  }
  return worst;
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
