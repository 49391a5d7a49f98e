/**
 * Location–scale and waiting-time families: normal, uniform, exponential, gamma and beta.
 */
import { sampleBeta, sampleGamma } from '../beta-sampler.ts';
import { checkFinite, checkPositive, invalidArgument } from '../errors.ts';
import type { Rng } from '../rng.ts';
import {
  betaInc,
  betaIncComplement,
  gammaP,
  gammaQ,
  invertCdf,
  logBeta,
  logGamma,
  normalCdf,
  normalPdf,
  normalQuantile,
} from '../special.ts';
import type { ContinuousDistribution } from './distribution.ts';

/** Normal(mean, sd). */
export function normal(params: { mean?: number; sd?: number } = {}): ContinuousDistribution {
  const mu = params.mean ?? 0;
  const sigma = params.sd ?? 1;
  checkFinite('mean', mu);
  checkPositive('sd', sigma);
  return {
    pdf: (x) => normalPdf((x - mu) / sigma) / sigma,
    cdf: (x) => normalCdf((x - mu) / sigma),
    sf: (x) => normalCdf((mu - x) / sigma),
    quantile: (p) => mu + sigma * normalQuantile(p),
    mean: mu,
    variance: sigma * sigma,
    sample: (rng: Rng) => mu + sigma * rng.normal(),
  };
}

/** Uniform on [min, max]. */
export function uniform(params: { min?: number; max?: number } = {}): ContinuousDistribution {
  const a = params.min ?? 0;
  const b = params.max ?? 1;
  checkFinite('min', a);
  checkFinite('max', b);
  if (!(b > a)) invalidArgument('max', `is ${b}: it must be greater than min (${a})`);
  const w = b - a;
  const cdf = (x: number): number => (x <= a ? 0 : x >= b ? 1 : (x - a) / w);
  return {
    pdf: (x) => (x < a || x > b ? 0 : 1 / w),
    cdf,
    sf: (x) => (x <= a ? 1 : x >= b ? 0 : (b - x) / w),
    quantile: (p) => (p >= 0 && p <= 1 ? a + p * w : Number.NaN),
    mean: (a + b) / 2,
    variance: (w * w) / 12,
    sample: (rng: Rng) => a + w * rng.next(),
  };
}

/** Exponential with the given rate (mean 1/rate). */
export function exponential(params: { rate?: number } = {}): ContinuousDistribution {
  const rate = params.rate ?? 1;
  checkPositive('rate', rate);
  return {
    pdf: (x) => (x < 0 ? 0 : rate * Math.exp(-rate * x)),
    cdf: (x) => (x <= 0 ? 0 : -Math.expm1(-rate * x)),
    sf: (x) => (x <= 0 ? 1 : Math.exp(-rate * x)),
    quantile: (p) => (p >= 0 && p <= 1 ? -Math.log1p(-p) / rate : Number.NaN),
    mean: 1 / rate,
    variance: 1 / (rate * rate),
    sample: (rng: Rng) => -Math.log1p(-rng.next()) / rate,
  };
}

/** Gamma(shape, scale): density x^(k−1) e^(−x/θ) / (Γ(k) θ^k). */
export function gamma(params: { shape: number; scale?: number }): ContinuousDistribution {
  const k = params?.shape;
  const theta = params?.scale ?? 1;
  checkPositive('shape', k);
  checkPositive('scale', theta);
  const lg = logGamma(k);
  const pdf = (x: number): number => {
    if (x < 0) return 0;
    if (x === 0) return k === 1 ? 1 / theta : k < 1 ? Number.POSITIVE_INFINITY : 0;
    const z = x / theta;
    return Math.exp((k - 1) * Math.log(z) - z - lg) / theta;
  };
  const cdf = (x: number): number => gammaP(k, x / theta);
  const sf = (x: number): number => gammaQ(k, x / theta);
  return {
    pdf,
    cdf,
    sf,
    quantile: (p) =>
      invertCdf({ cdf, sf, pdf, lower: 0, upper: Number.POSITIVE_INFINITY, guess: k * theta }, p),
    mean: k * theta,
    variance: k * theta * theta,
    sample: (rng: Rng) => sampleGamma(rng, k) * theta,
  };
}

/** Beta(alpha, beta) on [0, 1]. */
export function beta(params: { alpha: number; beta: number }): ContinuousDistribution {
  const a = params?.alpha;
  const b = params?.beta;
  checkPositive('alpha', a);
  checkPositive('beta', b);
  const lb = logBeta(a, b);
  const pdf = (x: number): number => {
    if (x < 0 || x > 1) return 0;
    if (x === 0) return a === 1 ? Math.exp(-lb) : a < 1 ? Number.POSITIVE_INFINITY : 0;
    if (x === 1) return b === 1 ? Math.exp(-lb) : b < 1 ? Number.POSITIVE_INFINITY : 0;
    return Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - lb);
  };
  const cdf = (x: number): number => (x <= 0 ? 0 : x >= 1 ? 1 : betaInc(a, b, x));
  const sf = (x: number): number => (x <= 0 ? 1 : x >= 1 ? 0 : betaIncComplement(a, b, x));
  return {
    pdf,
    cdf,
    sf,
    quantile: (p) => invertCdf({ cdf, sf, pdf, lower: 0, upper: 1, guess: a / (a + b) }, p),
    mean: a / (a + b),
    variance: (a * b) / ((a + b) * (a + b) * (a + b + 1)),
    sample: (rng: Rng) => sampleBeta(rng, a, b),
  };
}
