/**
 * Comparing spreads and group means: the F-test of two variances, Levene's test (mean or median centre, the
 * latter being Brown–Forsythe) and one-way ANOVA.
 */
import { meanOf, quantileOfSorted, sumSquaredDeviations } from '../descriptive.ts';
import { fisherF } from '../distributions/sampling.ts';
import {
  checkAlternative,
  checkConfidence,
  checkSample,
  invalidArgument,
  type Sample,
  zeroVariance,
} from '../errors.ts';
import { type TestOptions, type TestResult, tailPValue } from './result.ts';

export interface FTestOptions extends TestOptions {
  /** Ratio of variances under the null hypothesis (default 1). */
  ratio?: number;
}

/** F-test that var(x) / var(y) equals `ratio`; estimate = var(x) / var(y). */
export function fTestVariances(x: Sample, y: Sample, options: FTestOptions = {}): TestResult {
  checkSample('x', x, 2);
  checkSample('y', y, 2);
  const alternative = checkAlternative(options.alternative);
  const confidence = checkConfidence(options.confidence);
  const ratio = options.ratio ?? 1;
  if (!(ratio > 0 && Number.isFinite(ratio)))
    invalidArgument('ratio', `is ${ratio}: it must be a positive number`);
  const d1 = x.length - 1;
  const d2 = y.length - 1;
  const vx = sumSquaredDeviations(x) / d1;
  const vy = sumSquaredDeviations(y) / d2;
  if (vy === 0) zeroVariance('y');
  if (vx === 0) zeroVariance('x');
  const estimate = vx / vy;
  const f = estimate / ratio;
  const dist = fisherF({ df1: d1, df2: d2 });
  let ci: [number, number];
  if (alternative === 'less') ci = [0, estimate / dist.quantile(1 - confidence)];
  else if (alternative === 'greater') ci = [estimate / dist.quantile(confidence), Number.POSITIVE_INFINITY];
  else {
    const a = (1 - confidence) / 2;
    ci = [estimate / dist.quantile(1 - a), estimate / dist.quantile(a)];
  }
  return {
    statistic: f,
    pValue: tailPValue(dist, f, alternative),
    df: [d1, d2],
    estimate,
    ci,
    alternative,
    method: 'F-test of two variances',
  };
}

function checkGroups(groups: readonly Sample[], min: number): void {
  if (!Array.isArray(groups) || groups.length < 2) {
    invalidArgument('groups', `has ${groups?.length ?? 0} group(s): it needs at least 2`);
  }
  for (let i = 0; i < groups.length; i++) checkSample(`groups[${i}]`, groups[i], min);
}

export interface AnovaResult extends TestResult {
  df: [number, number];
  /** η² = between-group sum of squares / total sum of squares. */
  etaSquared: number;
  sumSquaresBetween: number;
  sumSquaresWithin: number;
}

/** One-way ANOVA: F = MS_between / MS_within with (k − 1, N − k) degrees of freedom. */
export function anovaOneWay(groups: readonly Sample[]): AnovaResult {
  checkGroups(groups, 1);
  const k = groups.length;
  let total = 0;
  let n = 0;
  for (const g of groups) {
    for (let i = 0; i < g.length; i++) total += g[i];
    n += g.length;
  }
  if (n - k < 1)
    invalidArgument('groups', `hold ${n} values in ${k} groups: ANOVA needs more values than groups`);
  const grand = total / n;
  let ssb = 0;
  let ssw = 0;
  for (const g of groups) {
    const m = meanOf(g);
    ssb += g.length * (m - grand) * (m - grand);
    ssw += sumSquaredDeviations(g, m);
  }
  if (ssw === 0) zeroVariance('groups (within every group)');
  const df1 = k - 1;
  const df2 = n - k;
  const f = ssb / df1 / (ssw / df2);
  return {
    statistic: f,
    pValue: fisherF({ df1, df2 }).sf(f),
    df: [df1, df2],
    etaSquared: ssb / (ssb + ssw),
    sumSquaresBetween: ssb,
    sumSquaresWithin: ssw,
    alternative: 'greater',
    method: 'one-way ANOVA',
  };
}

export interface LeveneOptions {
  /** 'median' (Brown–Forsythe, the default, robust to skew) or 'mean' (Levene's original). */
  center?: 'mean' | 'median';
}

/** Levene's test of equal variances across groups: ANOVA on absolute deviations from each group's centre. */
export function leveneTest(groups: readonly Sample[], options: LeveneOptions = {}): TestResult {
  checkGroups(groups, 2);
  const center = options.center ?? 'median';
  if (center !== 'mean' && center !== 'median')
    invalidArgument('center', `is ${String(center)}: use 'mean' or 'median'`);
  const deviations = groups.map((g) => {
    const c = center === 'mean' ? meanOf(g) : quantileOfSorted(Float64Array.from(g).sort(), 0.5);
    return Float64Array.from(g, (v) => Math.abs(v - c));
  });
  const anova = anovaOneWay(deviations);
  return {
    statistic: anova.statistic,
    pValue: anova.pValue,
    df: anova.df,
    alternative: 'greater',
    method: center === 'mean' ? "Levene's test (mean centre)" : 'Brown–Forsythe test (median centre)',
  };
}
