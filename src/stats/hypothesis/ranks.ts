/**
 * Rank tests: Mann–Whitney U (exact for small samples without ties, else the normal approximation with tie
 * and continuity corrections), the Wilcoxon signed-rank test and the tie-corrected Kruskal–Wallis H test.
 */
import { rank, rankWithTies, tieGroups } from '../descriptive.ts';
import { chiSquared } from '../distributions/sampling.ts';
import {
  checkAlternative,
  checkSameLength,
  checkSample,
  invalidArgument,
  type Sample,
  zeroVariance,
} from '../errors.ts';
import { normalPValue, type TestOptions, type TestResult } from './result.ts';

export interface RankTestOptions extends Omit<TestOptions, 'confidence'> {
  /** 'auto' (default): exact when the sample is small and has no ties; else the normal approximation. */
  method?: 'auto' | 'exact' | 'asymptotic';
  /** Continuity correction of the normal approximation (Mann–Whitney default true, Wilcoxon default false). */
  continuityCorrection?: boolean;
}

/**
 * Counts of the Mann–Whitney U statistic over all C(m+n, m) arrangements: the coefficients of
 * Π_{i=1..m} (1 − q^{n+i}) / (1 − q^i).
 */
function mannWhitneyCounts(m: number, n: number): Float64Array {
  const size = m * n + 1;
  const f = new Float64Array(size);
  f[0] = 1;
  for (let i = 1; i <= m; i++) {
    const up = n + i;
    for (let k = size - 1; k >= up; k--) f[k] -= f[k - up];
    for (let k = i; k < size; k++) f[k] += f[k - i];
  }
  return f;
}

function hasTies(x: Sample): boolean {
  return tieGroups(x).length > 0;
}

/** Mann–Whitney U test; statistic = U of x (the number of pairs with x > y, ties counting ½). */
export function mannWhitneyU(x: Sample, y: Sample, options: RankTestOptions = {}): TestResult {
  checkSample('x', x);
  checkSample('y', y);
  const alternative = checkAlternative(options.alternative);
  const n1 = x.length;
  const n2 = y.length;
  const all = new Float64Array(n1 + n2);
  for (let i = 0; i < n1; i++) all[i] = x[i];
  for (let i = 0; i < n2; i++) all[n1 + i] = y[i];
  const { ranks: r, ties } = rankWithTies(all);
  let method = options.method ?? 'auto';
  if (method === 'auto') method = (n1 <= 8 || n2 <= 8) && ties.length === 0 ? 'exact' : 'asymptotic';
  if (method !== 'exact' && method !== 'asymptotic')
    invalidArgument('method', `is ${String(method)}: use 'auto', 'exact' or 'asymptotic'`);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += r[i];
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const u = alternative === 'greater' ? u1 : alternative === 'less' ? u2 : Math.max(u1, u2);
  const factor = alternative === 'two-sided' ? 2 : 1;
  let p: number;
  if (method === 'exact') {
    const m = Math.min(n1, n2);
    const counts = mannWhitneyCounts(m, Math.max(n1, n2));
    let total = 0;
    let upper = 0;
    const from = Math.round(u);
    for (let k = 0; k < counts.length; k++) {
      total += counts[k];
      if (k >= from) upper += counts[k];
    }
    p = upper / total;
  } else {
    const n = n1 + n2;
    const tie = ties.reduce((s, t) => s + t * t * t - t, 0);
    const sd = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tie / (n * (n - 1))));
    if (sd === 0) zeroVariance('x and y (all values equal)');
    let num = u - (n1 * n2) / 2;
    if (options.continuityCorrection ?? true) num -= 0.5;
    p = normalPValue(num / sd, 'greater');
  }
  return {
    statistic: u1,
    pValue: Math.min(1, Math.max(0, p * factor)),
    alternative,
    method: `Mann–Whitney U test (${method === 'exact' ? 'exact' : 'normal approximation'})`,
  };
}

/** Counts of the signed-rank sum over all 2^n sign patterns: coefficients of Π (1 + q^i). */
function signedRankCounts(n: number): Float64Array {
  const size = (n * (n + 1)) / 2 + 1;
  const f = new Float64Array(size);
  f[0] = 1;
  for (let i = 1; i <= n; i++) for (let k = size - 1; k >= i; k--) f[k] += f[k - i];
  return f;
}

export interface WilcoxonOptions extends RankTestOptions {
  /** How zero differences count: dropped ('wilcox', default), ranked then dropped ('pratt'), or split ('zsplit'). */
  zeroMethod?: 'wilcox' | 'pratt' | 'zsplit';
}

/**
 * Wilcoxon signed-rank test of x (or x − y) about 0. Statistic: min(R+, R−) two-sided, R+ one-sided
 * (as scipy.stats.wilcoxon). Exact for n ≤ 50 without zeros or ties; with tied |differences| the normal
 * approximation is used, tie-corrected (SciPy 1.10 would use its exact table there, which ties invalidate).
 */
export function wilcoxonSignedRank(x: Sample, options?: WilcoxonOptions): TestResult;
export function wilcoxonSignedRank(x: Sample, y: Sample | undefined, options?: WilcoxonOptions): TestResult;
export function wilcoxonSignedRank(
  x: Sample,
  yOrOptions?: Sample | WilcoxonOptions,
  maybeOptions: WilcoxonOptions = {},
): TestResult {
  const paired = yOrOptions !== undefined && typeof (yOrOptions as Sample).length === 'number';
  const y = paired ? (yOrOptions as Sample) : undefined;
  const options = paired || yOrOptions === undefined ? maybeOptions : (yOrOptions as WilcoxonOptions);
  checkSample('x', x);
  let d: Float64Array;
  if (y !== undefined) {
    checkSample('y', y);
    checkSameLength('x', x, 'y', y);
    d = Float64Array.from(x, (v, i) => v - y[i]);
  } else {
    d = Float64Array.from(x);
  }
  const alternative = checkAlternative(options.alternative);
  const zeroMethod = options.zeroMethod ?? 'wilcox';
  const nZero = d.filter((v) => v === 0).length;
  const absAll = d.map(Math.abs);
  let method = options.method ?? 'auto';
  if (method === 'auto') method = d.length <= 50 && nZero === 0 && !hasTies(absAll) ? 'exact' : 'asymptotic';
  if (method === 'exact' && nZero > 0) method = 'asymptotic';
  if (nZero === d.length && zeroMethod !== 'zsplit')
    invalidArgument('x', 'has only zero differences: the test is undefined');
  if (zeroMethod === 'wilcox') d = d.filter((v) => v !== 0);
  const count = d.length;
  const r = rank(d.map(Math.abs));
  let rPlus = 0;
  let rMinus = 0;
  let rZero = 0;
  for (let i = 0; i < count; i++) {
    if (d[i] > 0) rPlus += r[i];
    else if (d[i] < 0) rMinus += r[i];
    else rZero += r[i];
  }
  if (zeroMethod === 'zsplit') {
    rPlus += rZero / 2;
    rMinus += rZero / 2;
  }
  const t = alternative === 'two-sided' ? Math.min(rPlus, rMinus) : rPlus;
  let p: number;
  if (method === 'exact') {
    const counts = signedRankCounts(count);
    const total = 2 ** count;
    const k = Math.round(rPlus);
    let below = 0;
    let above = 0;
    for (let i = 0; i < counts.length; i++) {
      if (i <= k) below += counts[i];
      if (i >= k) above += counts[i];
    }
    if (alternative === 'greater') p = above / total;
    else if (alternative === 'less') p = below / total;
    else p = k === (counts.length - 1) / 2 ? 1 : (2 * Math.min(above, below)) / total;
  } else {
    let mn = (count * (count + 1)) / 4;
    let se = count * (count + 1) * (2 * count + 1);
    let ranks = Array.from(r);
    if (zeroMethod === 'pratt') {
      ranks = ranks.filter((_, i) => d[i] !== 0);
      mn -= (nZero * (nZero + 1)) / 4;
      se -= nZero * (nZero + 1) * (2 * nZero + 1);
    }
    for (const g of tieGroups(ranks)) se -= 0.5 * g * (g * g - 1);
    se = Math.sqrt(se / 24);
    if (se === 0) zeroVariance('x');
    let correction = 0;
    if (options.continuityCorrection === true) {
      correction =
        alternative === 'two-sided' ? 0.5 * Math.sign(t - mn) : alternative === 'less' ? -0.5 : 0.5;
    }
    const z = (t - mn - correction) / se;
    p = normalPValue(z, alternative);
  }
  return {
    statistic: t,
    pValue: Math.min(1, Math.max(0, p)),
    alternative,
    method: `Wilcoxon signed-rank test (${method === 'exact' ? 'exact' : 'normal approximation'})`,
  };
}

/** Kruskal–Wallis H test across groups, corrected for ties; df = k − 1. */
export function kruskalWallis(groups: readonly Sample[]): TestResult {
  if (!Array.isArray(groups) || groups.length < 2) invalidArgument('groups', 'needs at least 2 groups');
  for (let i = 0; i < groups.length; i++) checkSample(`groups[${i}]`, groups[i]);
  const all = new Float64Array(groups.reduce((s, g) => s + g.length, 0));
  let at = 0;
  for (const g of groups) {
    for (let i = 0; i < g.length; i++) all[at + i] = g[i];
    at += g.length;
  }
  const n = all.length;
  const { ranks: r, ties } = rankWithTies(all);
  let h = 0;
  at = 0;
  for (const g of groups) {
    let s = 0;
    for (let i = 0; i < g.length; i++) s += r[at + i];
    h += (s * s) / g.length;
    at += g.length;
  }
  h = (12 / (n * (n + 1))) * h - 3 * (n + 1);
  const tieFactor = 1 - ties.reduce((s, t) => s + t * t * t - t, 0) / (n * n * n - n);
  if (tieFactor === 0) zeroVariance('groups (every value is the same)');
  h /= tieFactor;
  const df = groups.length - 1;
  return {
    statistic: h,
    pValue: chiSquared({ df }).sf(h),
    df,
    alternative: 'greater',
    method: 'Kruskal–Wallis H test (tie-corrected)',
  };
}
