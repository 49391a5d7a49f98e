/**
 * Tests on means: the one-sample z-test (known σ), one-sample, Welch, pooled (Student) and paired t-tests.
 */
import { meanOf, sumSquaredDeviations } from '../descriptive.ts';
import { studentT } from '../distributions/sampling.ts';
import {
  checkAlternative,
  checkConfidence,
  checkFinite,
  checkPositive,
  checkSameLength,
  checkSample,
  type Sample,
  zeroVariance,
} from '../errors.ts';
import { normalPValue, symmetricInterval, type TestOptions, type TestResult, tailPValue } from './result.ts';

export interface ZTestOptions extends TestOptions {
  /** The known population standard deviation. */
  sigma: number;
  /** The mean under the null hypothesis (default 0). */
  mu?: number;
}

/** One-sample z-test of the mean with known σ. */
export function zTest(x: Sample, options: ZTestOptions): TestResult {
  checkSample('x', x);
  checkPositive('sigma', options?.sigma);
  const mu = options.mu ?? 0;
  checkFinite('mu', mu);
  const alternative = checkAlternative(options.alternative);
  const confidence = checkConfidence(options.confidence);
  const m = meanOf(x);
  const se = options.sigma / Math.sqrt(x.length);
  const z = (m - mu) / se;
  return {
    statistic: z,
    pValue: normalPValue(z, alternative),
    estimate: m,
    ci: symmetricInterval(m, se, confidence, alternative),
    alternative,
    method: 'one-sample z-test',
  };
}

export interface TTestOptions extends TestOptions {
  /** The mean (or difference of means) under the null hypothesis (default 0). */
  mu?: number;
}

function tResult(
  estimate: number,
  se: number,
  df: number,
  mu: number,
  options: TTestOptions,
  method: string,
  name: string,
): TestResult {
  const alternative = checkAlternative(options.alternative);
  const confidence = checkConfidence(options.confidence);
  if (se === 0) zeroVariance(name);
  const dist = studentT({ df });
  const t = (estimate - mu) / se;
  return {
    statistic: t,
    pValue: tailPValue(dist, t, alternative),
    df,
    estimate,
    ci: symmetricInterval(estimate, se, confidence, alternative, dist.quantile),
    alternative,
    method,
  };
}

function nullMean(options: TTestOptions): number {
  const mu = options.mu ?? 0;
  checkFinite('mu', mu);
  return mu;
}

/** One-sample t-test of the mean. */
export function tTest(x: Sample, options: TTestOptions = {}): TestResult {
  checkSample('x', x, 2);
  const n = x.length;
  const m = meanOf(x);
  const se = Math.sqrt(sumSquaredDeviations(x, m) / (n - 1) / n);
  return tResult(m, se, n - 1, nullMean(options), options, 'one-sample t-test', 'x');
}

/** Welch's two-sample t-test (unequal variances, Welch–Satterthwaite df); estimate = mean(x) − mean(y). */
export function welchTTest(x: Sample, y: Sample, options: TTestOptions = {}): TestResult {
  checkSample('x', x, 2);
  checkSample('y', y, 2);
  const nx = x.length;
  const ny = y.length;
  const mx = meanOf(x);
  const my = meanOf(y);
  const vx = sumSquaredDeviations(x, mx) / (nx - 1) / nx;
  const vy = sumSquaredDeviations(y, my) / (ny - 1) / ny;
  const se = Math.sqrt(vx + vy);
  const df = ((vx + vy) * (vx + vy)) / ((vx * vx) / (nx - 1) + (vy * vy) / (ny - 1));
  return tResult(mx - my, se, df, nullMean(options), options, 'Welch two-sample t-test', 'x and y');
}

/** Student's two-sample t-test with pooled variance; estimate = mean(x) − mean(y). */
export function studentTTest(x: Sample, y: Sample, options: TTestOptions = {}): TestResult {
  checkSample('x', x, 1);
  checkSample('y', y, 1);
  const nx = x.length;
  const ny = y.length;
  const df = nx + ny - 2;
  if (df < 1) checkSample('x', x, 2);
  const mx = meanOf(x);
  const my = meanOf(y);
  const pooled = (sumSquaredDeviations(x, mx) + sumSquaredDeviations(y, my)) / df;
  const se = Math.sqrt(pooled * (1 / nx + 1 / ny));
  return tResult(
    mx - my,
    se,
    df,
    nullMean(options),
    options,
    'Student two-sample t-test (pooled variance)',
    'x and y',
  );
}

/** Paired t-test: a one-sample t-test of x[i] − y[i]; estimate = mean difference. */
export function pairedTTest(x: Sample, y: Sample, options: TTestOptions = {}): TestResult {
  checkSample('x', x, 2);
  checkSample('y', y, 2);
  checkSameLength('x', x, 'y', y);
  const n = x.length;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = x[i] - y[i];
  const m = meanOf(d);
  const se = Math.sqrt(sumSquaredDeviations(d, m) / (n - 1) / n);
  return tResult(m, se, n - 1, nullMean(options), options, 'paired t-test', 'x − y');
}
