/**
 * Counting distributions: Bernoulli, binomial, geometric (trials up to and including the first success,
 * support 1, 2, …) and Poisson.
 */
import { sampleBeta, sampleGamma } from '../beta-sampler.ts';
import { checkPositive, checkProbability, invalidArgument } from '../errors.ts';
import type { Rng } from '../rng.ts';
import { betaInc, gammaP, gammaQ, logChoose, logGamma, normalQuantile } from '../special.ts';
import type { DiscreteDistribution } from './distribution.ts';

/**
 * The smallest integer k ≥ lower with cdf(k) ≥ p, searched from a normal-approximation guess with
 * exponential steps then bisection.
 */
function discreteQuantile(
  cdf: (k: number) => number,
  p: number,
  lower: number,
  upper: number,
  mean: number,
  sd: number,
): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return lower;
  if (p === 1) return upper;
  let guess = Math.floor(mean + sd * normalQuantile(p));
  if (!Number.isFinite(guess)) guess = lower;
  guess = Math.min(Math.max(guess, lower), upper);
  let lo: number;
  let hi: number;
  if (cdf(guess) >= p) {
    hi = guess;
    let step = 1;
    lo = guess - step;
    while (lo >= lower && cdf(lo) >= p) {
      hi = lo;
      step *= 2;
      lo = hi - step;
    }
    if (lo < lower) {
      if (cdf(lower) >= p) return lower;
      lo = lower;
    }
  } else {
    lo = guess;
    let step = 1;
    hi = guess + step;
    while (hi < upper && cdf(hi) < p) {
      lo = hi;
      step *= 2;
      hi = lo + step;
    }
    if (hi > upper) hi = upper;
  }
  // invariant: cdf(lo) < p ≤ cdf(hi)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (cdf(mid) >= p) hi = mid;
    else lo = mid;
  }
  return hi;
}

function isInteger(k: number): boolean {
  return Number.isInteger(k);
}

/** Bernoulli(p): 1 with probability p, else 0. */
export function bernoulli(params: { p: number }): DiscreteDistribution {
  const p = params?.p;
  checkProbability('p', p);
  return {
    pmf: (k) => (k === 1 ? p : k === 0 ? 1 - p : 0),
    cdf: (k) => (k < 0 ? 0 : k < 1 ? 1 - p : 1),
    sf: (k) => (k < 0 ? 1 : k < 1 ? p : 0),
    quantile: (q) => (Number.isNaN(q) || q < 0 || q > 1 ? Number.NaN : q <= 1 - p ? 0 : 1),
    mean: p,
    variance: p * (1 - p),
    sample: (rng: Rng) => (rng.next() < p ? 1 : 0),
  };
}

function sampleBinomial(rng: Rng, n: number, p: number): number {
  let offset = 0;
  // Knuth's reduction: split by the median order statistic of n uniforms until n is small.
  while (n > 64) {
    const a = 1 + Math.floor(n / 2);
    const b = n - a + 1;
    const x = sampleBeta(rng, a, b);
    if (x >= p) {
      n = a - 1;
      p /= x;
    } else {
      offset += a;
      n = b - 1;
      p = (p - x) / (1 - x);
    }
  }
  let k = 0;
  for (let i = 0; i < n; i++) if (rng.next() < p) k++;
  return offset + k;
}

/** Binomial(n, p): successes in n independent trials. */
export function binomial(params: { n: number; p: number }): DiscreteDistribution {
  const n = params?.n;
  const p = params?.p;
  if (!Number.isInteger(n) || n < 0) invalidArgument('n', `is ${n}: it must be a non-negative integer`);
  checkProbability('p', p);
  const pmf = (k: number): number => {
    if (!isInteger(k) || k < 0 || k > n) return 0;
    if (p === 0) return k === 0 ? 1 : 0;
    if (p === 1) return k === n ? 1 : 0;
    return Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p));
  };
  const cdf = (x: number): number => {
    const k = Math.floor(x);
    if (k < 0) return 0;
    if (k >= n) return 1;
    return betaInc(n - k, k + 1, 1 - p, p);
  };
  const sf = (x: number): number => {
    const k = Math.floor(x);
    if (k < 0) return 1;
    if (k >= n) return 0;
    return betaInc(k + 1, n - k, p, 1 - p);
  };
  const mean = n * p;
  const variance = n * p * (1 - p);
  return {
    pmf,
    cdf,
    sf,
    quantile: (q) => discreteQuantile(cdf, q, 0, n, mean, Math.sqrt(variance)),
    mean,
    variance,
    sample: (rng: Rng) => sampleBinomial(rng, n, p),
  };
}

/** Geometric(p): the number of trials up to and including the first success, k = 1, 2, … */
export function geometric(params: { p: number }): DiscreteDistribution {
  const p = params?.p;
  checkProbability('p', p);
  if (p === 0) invalidArgument('p', 'is 0: a geometric distribution needs a success probability above 0');
  const logq = Math.log1p(-p);
  const cdf = (x: number): number => {
    const k = Math.floor(x);
    return k < 1 ? 0 : p === 1 ? 1 : -Math.expm1(k * logq);
  };
  const sf = (x: number): number => {
    const k = Math.floor(x);
    return k < 1 ? 1 : p === 1 ? 0 : Math.exp(k * logq);
  };
  return {
    pmf: (k) => (!isInteger(k) || k < 1 ? 0 : p === 1 ? (k === 1 ? 1 : 0) : Math.exp((k - 1) * logq) * p),
    cdf,
    sf,
    quantile: (q) => {
      if (Number.isNaN(q) || q < 0 || q > 1) return Number.NaN;
      if (q === 0 || p === 1) return 1;
      if (q === 1) return Number.POSITIVE_INFINITY;
      let k = Math.max(1, Math.ceil(Math.log1p(-q) / logq));
      while (k > 1 && cdf(k - 1) >= q) k--;
      while (cdf(k) < q) k++;
      return k;
    },
    mean: 1 / p,
    variance: (1 - p) / (p * p),
    sample: (rng: Rng) => (p === 1 ? 1 : Math.max(1, Math.ceil(Math.log1p(-rng.next()) / logq))),
  };
}

function samplePoisson(rng: Rng, lambda: number): number {
  let offset = 0;
  // Knuth's reduction through a Gamma order statistic keeps the direct method's loop short.
  while (lambda > 30) {
    const m = Math.floor((7 / 8) * lambda);
    const x = sampleGamma(rng, m);
    if (x < lambda) {
      offset += m;
      lambda -= x;
    } else {
      return offset + sampleBinomial(rng, m - 1, lambda / x);
    }
  }
  const limit = Math.exp(-lambda);
  let k = 0;
  let prod = rng.next();
  while (prod > limit) {
    k++;
    prod *= rng.next();
  }
  return offset + k;
}

/** Poisson(lambda). */
export function poisson(params: { lambda: number }): DiscreteDistribution {
  const lambda = params?.lambda;
  checkPositive('lambda', lambda);
  const cdf = (x: number): number => {
    const k = Math.floor(x);
    return k < 0 ? 0 : gammaQ(k + 1, lambda);
  };
  const sf = (x: number): number => {
    const k = Math.floor(x);
    return k < 0 ? 1 : gammaP(k + 1, lambda);
  };
  return {
    pmf: (k) => (!isInteger(k) || k < 0 ? 0 : Math.exp(k * Math.log(lambda) - lambda - logGamma(k + 1))),
    cdf,
    sf,
    quantile: (q) => discreteQuantile(cdf, q, 0, Number.POSITIVE_INFINITY, lambda, Math.sqrt(lambda)),
    mean: lambda,
    variance: lambda,
    sample: (rng: Rng) => samplePoisson(rng, lambda),
  };
}
