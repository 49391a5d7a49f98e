/**
 * The posterior families Thompson sampling ranks by, seen through what the propensity estimator needs from
 * them (thompson-propensity.ts): per candidate a draw, the mean and standard deviation, the distribution
 * function, and Chernoff bounds on both tails (to leave out candidates that practically never reach the
 * slate, and to skip distribution-function values that are 0 or 1 to 1e-12).
 *
 * - `BetaRanking`: θᵢ ~ Beta(αᵢ, βᵢ), the click-probability posteriors of `thompson` (posterior.ts).
 * - `GammaRanking`: vᵢ ~ Gamma(shapeᵢ, rateᵢ), the corrected scores of `corrected-thompson` (correction.ts).
 *
 * Each is a view over the caller's arrays, re-pointed per call (`use`), so the hot path allocates nothing.
 */
import { sampleBeta, sampleGamma } from '../stats/beta-sampler.ts';
import type { Rng } from '../stats/rng.ts';
import { gammaP, logBeta } from '../stats/special.ts';
import { betaCdf } from './beta-cdf.ts';

export interface RankingPosterior {
  /** A draw of candidate i's ranking value. */
  draw(rng: Rng, i: number): number;
  mean(i: number): number;
  sd(i: number): number;
  /** Precomputes what `cdf` needs for candidate i; called once per call for each item `cdf` is asked about. */
  prepare(i: number): void;
  /** P(value ≤ x) for candidate i (after `prepare(i)`). */
  cdf(i: number, x: number): number;
  /** A Chernoff bound on P(value ≥ x) for x above the mean. */
  upperTail(i: number, x: number): number;
  /** A Chernoff bound on P(value ≤ x) for x below the mean. */
  lowerTail(i: number, x: number): number;
}

/**
 * Chernoff bound on P(θ ≥ x) for θ ~ Beta(a, b) and x above the mean μ: with θ = Gₐ / (Gₐ + G_b) for
 * independent Gamma variables, P(θ ≥ x) = P((1 − x)Gₐ − x·G_b ≥ 0) ≤ min over λ of
 * E[exp(λ((1 − x)Gₐ − x·G_b))] = exp(−(a + b)·KL(μ ‖ x)), KL the Bernoulli relative entropy.
 */
export function chernoffTail(a: number, b: number, mean: number, x: number): number {
  const kl = mean * Math.log(mean / x) + (1 - mean) * Math.log((1 - mean) / (1 - x));
  return Math.exp(-(a + b) * kl);
}

/**
 * Chernoff bound on either tail of G ~ Gamma(a, rate b) at x on that side of the mean μ = a / b: from the
 * moment generating function (1 − λ/b)^(−a), P(G ≥ x) for x > μ and P(G ≤ x) for x < μ are both at most
 * exp(−a·(r − 1 − ln r)), r = x / μ.
 */
export function gammaChernoffTail(a: number, b: number, x: number): number {
  const r = (x * b) / a;
  if (!(r > 0)) return 0;
  return Math.exp(-a * (r - 1 - Math.log(r)));
}

export class BetaRanking implements RankingPosterior {
  private alpha: Float64Array = new Float64Array(0);
  private beta: Float64Array = new Float64Array(0);
  private logNorm = new Float64Array(0);

  /** Points the view at the posteriors of this call. */
  use(alpha: Float64Array, beta: Float64Array): this {
    this.alpha = alpha;
    this.beta = beta;
    if (this.logNorm.length < alpha.length) this.logNorm = new Float64Array(alpha.length);
    return this;
  }

  draw(rng: Rng, i: number): number {
    return sampleBeta(rng, this.alpha[i], this.beta[i]);
  }

  mean(i: number): number {
    return this.alpha[i] / (this.alpha[i] + this.beta[i]);
  }

  sd(i: number): number {
    const a = this.alpha[i];
    const b = this.beta[i];
    const sum = a + b;
    return Math.sqrt((a * b) / (sum * sum * (sum + 1)));
  }

  prepare(i: number): void {
    this.logNorm[i] = logBeta(this.alpha[i], this.beta[i]);
  }

  cdf(i: number, x: number): number {
    return betaCdf(this.alpha[i], this.beta[i], this.logNorm[i], x);
  }

  upperTail(i: number, x: number): number {
    if (x >= 1) return 0;
    return chernoffTail(this.alpha[i], this.beta[i], this.mean(i), x);
  }

  lowerTail(i: number, x: number): number {
    if (x <= 0) return 0;
    return chernoffTail(this.beta[i], this.alpha[i], 1 - this.mean(i), 1 - x);
  }
}

export class GammaRanking implements RankingPosterior {
  private shape: Float64Array = new Float64Array(0);
  private rate: Float64Array = new Float64Array(0);

  /** Points the view at the posteriors of this call. */
  use(shape: Float64Array, rate: Float64Array): this {
    this.shape = shape;
    this.rate = rate;
    return this;
  }

  draw(rng: Rng, i: number): number {
    return sampleGamma(rng, this.shape[i]) / this.rate[i];
  }

  mean(i: number): number {
    return this.shape[i] / this.rate[i];
  }

  sd(i: number): number {
    return Math.sqrt(this.shape[i]) / this.rate[i];
  }

  prepare(): void {}

  cdf(i: number, x: number): number {
    return gammaP(this.shape[i], this.rate[i] * x);
  }

  upperTail(i: number, x: number): number {
    if (x === Number.POSITIVE_INFINITY) return 0;
    return gammaChernoffTail(this.shape[i], this.rate[i], x);
  }

  lowerTail(i: number, x: number): number {
    if (x <= 0) return 0;
    return gammaChernoffTail(this.shape[i], this.rate[i], x);
  }
}
