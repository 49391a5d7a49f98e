/**
 * The sampling distributions of test statistics: Student's t, chi-squared and Fisher's F.
 */
import { sampleGamma } from '../beta-sampler.ts';
import { checkPositive } from '../errors.ts';
import type { Rng } from '../rng.ts';
import { betaInc, gammaP, gammaQ, invertCdf, logBeta, logGamma, normalQuantile } from '../special.ts';
import type { ContinuousDistribution } from './distribution.ts';

/** Student's t with `df` degrees of freedom (df may be fractional, as in Welch's test). */
export function studentT(params: { df: number }): ContinuousDistribution {
  const df = params?.df;
  checkPositive('df', df);
  const logNorm = -0.5 * Math.log(df) - logBeta(0.5, df / 2);
  const pdf = (t: number): number => Math.exp(logNorm - ((df + 1) / 2) * Math.log1p((t * t) / df));
  /** P(T > |t|) / 1, the one-tail mass beyond |t|. */
  const tail = (t: number): number => {
    const t2 = t * t;
    return 0.5 * betaInc(df / 2, 0.5, df / (df + t2), t2 / (df + t2));
  };
  const cdf = (t: number): number => {
    if (Number.isNaN(t)) return Number.NaN;
    if (t === Number.POSITIVE_INFINITY) return 1;
    if (t === Number.NEGATIVE_INFINITY) return 0;
    return t < 0 ? tail(t) : 1 - tail(t);
  };
  const sf = (t: number): number => (Number.isNaN(t) ? Number.NaN : cdf(-t));
  return {
    pdf,
    cdf,
    sf,
    quantile: (p) => {
      if (p === 0.5) return 0;
      return invertCdf(
        {
          cdf,
          sf,
          pdf,
          lower: Number.NEGATIVE_INFINITY,
          upper: Number.POSITIVE_INFINITY,
          guess: normalQuantile(p),
        },
        p,
      );
    },
    mean: df > 1 ? 0 : Number.NaN,
    variance: df > 2 ? df / (df - 2) : df > 1 ? Number.POSITIVE_INFINITY : Number.NaN,
    sample: (rng: Rng) => rng.normal() / Math.sqrt((2 * sampleGamma(rng, df / 2)) / df),
  };
}

/** Chi-squared with `df` degrees of freedom. */
export function chiSquared(params: { df: number }): ContinuousDistribution {
  const df = params?.df;
  checkPositive('df', df);
  const k = df / 2;
  const lg = logGamma(k);
  const pdf = (x: number): number => {
    if (x < 0) return 0;
    if (x === 0) return df === 2 ? 0.5 : df < 2 ? Number.POSITIVE_INFINITY : 0;
    return Math.exp((k - 1) * Math.log(x / 2) - x / 2 - lg) / 2;
  };
  const cdf = (x: number): number => gammaP(k, x / 2);
  const sf = (x: number): number => gammaQ(k, x / 2);
  return {
    pdf,
    cdf,
    sf,
    quantile: (p) => invertCdf({ cdf, sf, pdf, lower: 0, upper: Number.POSITIVE_INFINITY, guess: df }, p),
    mean: df,
    variance: 2 * df,
    sample: (rng: Rng) => 2 * sampleGamma(rng, k),
  };
}

/** Fisher's F with (df1, df2) degrees of freedom. */
export function fisherF(params: { df1: number; df2: number }): ContinuousDistribution {
  const d1 = params?.df1;
  const d2 = params?.df2;
  checkPositive('df1', d1);
  checkPositive('df2', d2);
  const lb = logBeta(d1 / 2, d2 / 2);
  const pdf = (x: number): number => {
    if (x < 0) return 0;
    if (x === 0) return d1 === 2 ? 1 : d1 < 2 ? Number.POSITIVE_INFINITY : 0;
    return Math.exp(
      (d1 / 2) * Math.log(d1 / d2) +
        (d1 / 2 - 1) * Math.log(x) -
        ((d1 + d2) / 2) * Math.log1p((d1 * x) / d2) -
        lb,
    );
  };
  const cdf = (x: number): number => {
    if (x <= 0) return 0;
    if (x === Number.POSITIVE_INFINITY) return 1;
    const u = d1 * x;
    return betaInc(d1 / 2, d2 / 2, u / (u + d2), d2 / (u + d2));
  };
  const sf = (x: number): number => {
    if (x <= 0) return 1;
    if (x === Number.POSITIVE_INFINITY) return 0;
    const u = d1 * x;
    return betaInc(d2 / 2, d1 / 2, d2 / (u + d2), u / (u + d2));
  };
  return {
    pdf,
    cdf,
    sf,
    quantile: (p) =>
      invertCdf(
        { cdf, sf, pdf, lower: 0, upper: Number.POSITIVE_INFINITY, guess: d2 > 2 ? d2 / (d2 - 2) : 1 },
        p,
      ),
    mean: d2 > 2 ? d2 / (d2 - 2) : Number.POSITIVE_INFINITY,
    variance:
      d2 > 4
        ? (2 * d2 * d2 * (d1 + d2 - 2)) / (d1 * (d2 - 2) * (d2 - 2) * (d2 - 4))
        : d2 > 2
          ? Number.POSITIVE_INFINITY
          : Number.NaN,
    sample: (rng: Rng) => {
      const x = (2 * sampleGamma(rng, d1 / 2)) / d1;
      const y = (2 * sampleGamma(rng, d2 / 2)) / d2;
      return x / y;
    },
  };
}
