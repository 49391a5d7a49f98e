/**
 * Descriptive statistics: location, spread, quantiles (R type 7), ranks, covariance and correlation.
 */
import { argsort } from './argsort.ts';
import { studentT } from './distributions/sampling.ts';
import {
  type Alternative,
  checkAlternative,
  checkConfidence,
  checkSameLength,
  checkSample,
  invalidArgument,
  type Sample,
  zeroVariance,
} from './errors.ts';
import { normalQuantile } from './special.ts';

/** Arithmetic mean, with a second pass that removes most of the rounding error of the first. */
export function mean(x: Sample): number {
  checkSample('x', x);
  return meanOf(x);
}

/** Mean of values already checked. */
export function meanOf(x: Sample): number {
  const n = x.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i];
  const m = s / n;
  let c = 0;
  for (let i = 0; i < n; i++) c += x[i] - m;
  return m + c / n;
}

function sorted(x: Sample): Float64Array {
  return Float64Array.from(x).sort();
}

export function median(x: Sample): number {
  checkSample('x', x);
  return quantileOfSorted(sorted(x), 0.5);
}

/** Every most frequent value, ascending. */
export function mode(x: Sample): number[] {
  checkSample('x', x);
  const s = sorted(x);
  let best = 0;
  let modes: number[] = [];
  let i = 0;
  while (i < s.length) {
    let j = i;
    while (j < s.length && s[j] === s[i]) j++;
    const count = j - i;
    if (count > best) {
      best = count;
      modes = [s[i]];
    } else if (count === best) {
      modes.push(s[i]);
    }
    i = j;
  }
  return modes;
}

export interface VarianceOptions {
  /** Divide by n (population) instead of n − 1 (sample, the default). */
  population?: boolean;
}

/** Sum of squared deviations from the mean. */
export function sumSquaredDeviations(x: Sample, m = meanOf(x)): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - m;
    s += d * d;
  }
  return s;
}

export function variance(x: Sample, options: VarianceOptions = {}): number {
  checkSample('x', x, options.population ? 1 : 2);
  return sumSquaredDeviations(x) / (options.population ? x.length : x.length - 1);
}

export function std(x: Sample, options: VarianceOptions = {}): number {
  return Math.sqrt(variance(x, options));
}

/** Type 7 quantile of an ascending array. */
export function quantileOfSorted(s: ArrayLike<number>, q: number): number {
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

/** Sample quantile(s) by linear interpolation between order statistics (R type 7, numpy's default). */
export function quantile(x: Sample, q: number): number;
export function quantile(x: Sample, q: readonly number[]): number[];
export function quantile(x: Sample, q: number | readonly number[]): number | number[] {
  checkSample('x', x);
  const qs = typeof q === 'number' ? [q] : q;
  for (const p of qs) {
    if (typeof p !== 'number' || !(p >= 0 && p <= 1))
      invalidArgument('q', `is ${p}: quantiles lie in [0, 1]`);
  }
  const s = sorted(x);
  const out = qs.map((p) => quantileOfSorted(s, p));
  return typeof q === 'number' ? out[0] : out;
}

/** Ranks 1..n, ties given their average rank (scipy's rankdata 'average'). */
export function rank(x: Sample): Float64Array {
  return rankWithTies(x).ranks;
}

/** Average ranks and the sizes of the groups of tied values (groups of two or more), from one sort. */
export function rankWithTies(x: Sample): { ranks: Float64Array; ties: number[] } {
  const n = x.length;
  const order = argsort(x);
  const ranks = new Float64Array(n);
  const ties: number[] = [];
  let i = 0;
  while (i < n) {
    const v = x[order[i]];
    let j = i;
    while (j + 1 < n && x[order[j + 1]] === v) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = avg;
    if (j > i) ties.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, ties };
}

/** Sizes of the groups of tied values (only groups of two or more). */
export function tieGroups(x: Sample): number[] {
  const s = sorted(x);
  const out: number[] = [];
  let i = 0;
  while (i < s.length) {
    let j = i;
    while (j < s.length && s[j] === s[i]) j++;
    if (j - i > 1) out.push(j - i);
    i = j;
  }
  return out;
}

export function covariance(x: Sample, y: Sample, options: VarianceOptions = {}): number {
  checkSample('x', x, options.population ? 1 : 2);
  checkSample('y', y, options.population ? 1 : 2);
  checkSameLength('x', x, 'y', y);
  const mx = meanOf(x);
  const my = meanOf(y);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - mx) * (y[i] - my);
  return s / (options.population ? x.length : x.length - 1);
}

export interface CorrelationOptions {
  alternative?: Alternative;
  confidence?: number;
}

export interface CorrelationResult {
  /** The correlation coefficient. */
  statistic: number;
  pValue: number;
  df: number;
  /** Fisher-z confidence interval of the coefficient (Pearson only). */
  ci?: [number, number];
}

function pearsonOf(x: Sample, y: Sample, xName: string, yName: string): number {
  const mx = meanOf(x);
  const my = meanOf(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0) zeroVariance(xName);
  if (syy === 0) zeroVariance(yName);
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

function correlationPValue(r: number, n: number, alternative: Alternative): number {
  const df = n - 2;
  if (df === 0) return 1;
  if (Math.abs(r) === 1) {
    if (alternative === 'two-sided') return 0;
    return (alternative === 'greater') === r > 0 ? 0 : 1;
  }
  const t = r * Math.sqrt(df / ((1 - r) * (1 + r)));
  const dist = studentT({ df });
  if (alternative === 'less') return dist.cdf(t);
  if (alternative === 'greater') return dist.sf(t);
  return Math.min(1, 2 * dist.sf(Math.abs(t)));
}

/** Pearson's r with the t-test p-value (exact under bivariate normality) and a Fisher-z interval. */
export function pearson(x: Sample, y: Sample, options: CorrelationOptions = {}): CorrelationResult {
  checkSample('x', x, 2);
  checkSample('y', y, 2);
  checkSameLength('x', x, 'y', y);
  const alternative = checkAlternative(options.alternative);
  const confidence = checkConfidence(options.confidence);
  const n = x.length;
  const r = pearsonOf(x, y, 'x', 'y');
  const result: CorrelationResult = { statistic: r, pValue: correlationPValue(r, n, alternative), df: n - 2 };
  if (n > 3) {
    const z = Math.atanh(r);
    const se = 1 / Math.sqrt(n - 3);
    if (alternative === 'two-sided') {
      const h = normalQuantile(1 - (1 - confidence) / 2) * se;
      result.ci = [Math.tanh(z - h), Math.tanh(z + h)];
    } else if (alternative === 'less') {
      result.ci = [-1, Math.tanh(z + normalQuantile(confidence) * se)];
    } else {
      result.ci = [Math.tanh(z - normalQuantile(confidence) * se), 1];
    }
  }
  return result;
}

/** Spearman's rank correlation with the t-distribution p-value (as scipy.stats.spearmanr). */
export function spearman(x: Sample, y: Sample, options: CorrelationOptions = {}): CorrelationResult {
  checkSample('x', x, 2);
  checkSample('y', y, 2);
  checkSameLength('x', x, 'y', y);
  const alternative = checkAlternative(options.alternative);
  const r = pearsonOf(rank(x), rank(y), 'x', 'y');
  return { statistic: r, pValue: correlationPValue(r, x.length, alternative), df: x.length - 2 };
}
