/**
 * The shape every hypothesis test returns, and the p-value and interval arithmetic they share.
 */
import type { ContinuousDistribution } from '../distributions/distribution.ts';
import type { Alternative } from '../errors.ts';
import { normalCdf, normalQuantile } from '../special.ts';

export interface TestResult {
  /** The test statistic (z, t, F, χ², U, W, H or K²). */
  statistic: number;
  pValue: number;
  /** Degrees of freedom: one number, or [numerator, denominator] for F tests. */
  df?: number | [number, number];
  /** The estimated effect (a mean, a difference of means or proportions, a variance ratio). */
  estimate?: number;
  /** Confidence interval of `estimate`; one-sided alternatives give a one-sided interval. */
  ci?: [number, number];
  alternative: Alternative;
  /** What was computed, e.g. "Welch two-sample t-test". */
  method: string;
}

export interface TestOptions {
  alternative?: Alternative;
  confidence?: number;
}

/** p-value of a statistic whose null distribution is `dist`, symmetric or not (two-sided doubles the smaller tail). */
export function tailPValue(
  dist: ContinuousDistribution,
  statistic: number,
  alternative: Alternative,
): number {
  if (alternative === 'less') return dist.cdf(statistic);
  if (alternative === 'greater') return dist.sf(statistic);
  return Math.min(1, 2 * Math.min(dist.cdf(statistic), dist.sf(statistic)));
}

export function normalPValue(z: number, alternative: Alternative): number {
  if (alternative === 'less') return normalCdf(z);
  if (alternative === 'greater') return normalCdf(-z);
  return Math.min(1, 2 * normalCdf(-Math.abs(z)));
}

/**
 * Interval estimate ± q·se where q is the quantile of a symmetric reference distribution; one-sided alternatives
 * leave the other end open.
 */
export function symmetricInterval(
  estimate: number,
  se: number,
  confidence: number,
  alternative: Alternative,
  quantile: (p: number) => number = normalQuantile,
): [number, number] {
  if (alternative === 'less') return [Number.NEGATIVE_INFINITY, estimate + quantile(confidence) * se];
  if (alternative === 'greater') return [estimate - quantile(confidence) * se, Number.POSITIVE_INFINITY];
  const h = quantile(1 - (1 - confidence) / 2) * se;
  return [estimate - h, estimate + h];
}
