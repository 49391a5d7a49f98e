import type { Rng } from '../rng.ts';

/** A continuous distribution: density, distribution function, its inverse, moments and a sampler. */
export interface ContinuousDistribution {
  pdf(x: number): number;
  cdf(x: number): number;
  /** Survival 1 − cdf(x), computed without cancellation in the upper tail. */
  sf(x: number): number;
  /** The x with cdf(x) = p. */
  quantile(p: number): number;
  readonly mean: number;
  readonly variance: number;
  sample(rng: Rng): number;
}

/** A distribution on the integers: mass function, distribution function, quantile, moments and a sampler. */
export interface DiscreteDistribution {
  pmf(k: number): number;
  cdf(k: number): number;
  sf(k: number): number;
  /** The smallest k with cdf(k) ≥ p. */
  quantile(p: number): number;
  readonly mean: number;
  readonly variance: number;
  sample(rng: Rng): number;
}
