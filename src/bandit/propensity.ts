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
 * Thompson sampling by seeded Monte Carlo: the ranking is redrawn R times from the same posteriors and
 * p̃ = hits / R counts how often the shown item lands in its slot. p̃ is unbiased with standard error
 * √(p(1 − p)/R) ≤ 1/(2√R), and by Hoeffding |p̃ − p| ≤ √(ln(2/δ) / (2R)) with probability ≥ 1 − δ. A shown
 * item that no replicate put in its slot gets the floor (default 1/(2R)) instead of 0, which adds a bias of
 * at most the floor and keeps every logged propensity positive.
 */
import { sampleBeta } from '../stats/beta-sampler.ts';
import type { Rng } from '../stats/rng.ts';
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
}

export const EXACT: PropensityMethod = Object.freeze({
  method: 'exact',
  replicates: 0,
  errorBound: 0,
  delta: 0,
});

/** Hoeffding half-width √(ln(2/δ) / (2R)) of a mean of R values in [0, 1]. */
export function hoeffdingBound(replicates: number, delta: number): number {
  return Math.sqrt(Math.log(2 / delta) / (2 * replicates));
}

export function monteCarloMethod(settings: MonteCarloSettings): PropensityMethod {
  return Object.freeze({
    method: 'monte-carlo',
    replicates: settings.replicates,
    errorBound: hoeffdingBound(settings.replicates, settings.delta),
    delta: settings.delta,
  });
}

/** Reusable scratch for propensity computations over up to `capacity` candidates. */
export class PropensityScratch {
  draws: Float64Array;
  order: Int32Array;
  hits: Int32Array;
  readonly block = new Int32Array(2);

  constructor(capacity: number) {
    this.draws = new Float64Array(capacity);
    this.order = new Int32Array(capacity);
    this.hits = new Int32Array(capacity);
  }

  ensure(n: number): void {
    if (this.draws.length >= n) return;
    const size = Math.max(n, this.draws.length * 2);
    this.draws = new Float64Array(size);
    this.order = new Int32Array(size);
    this.hits = new Int32Array(size);
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
 * Thompson sampling, by Monte Carlo: R rankings drawn from Beta(α, β) with `rng`; returns hits / R per slot
 * (floored, see the file comment).
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
): void {
  scratch.ensure(n);
  const draws = scratch.draws;
  const order = scratch.order;
  const hits = scratch.hits;
  const replicates = settings.replicates;
  for (let s = 0; s < k; s++) hits[s] = 0;
  for (let r = 0; r < replicates; r++) {
    for (let i = 0; i < n; i++) draws[i] = sampleBeta(rng, alpha[i], beta[i]);
    selectTopK(draws, null, n, k, order);
    for (let s = 0; s < k; s++) if (order[s] === shown[s]) hits[s]++;
  }
  const floor = settings.floor ?? 1 / (2 * replicates);
  for (let s = 0; s < k; s++) {
    const p = hits[s] / replicates;
    out[s] = Math.max(p, floor);
  }
}
