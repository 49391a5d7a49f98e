/**
 * Multiple comparisons: p-value adjustment (Bonferroni, Holm, Benjamini–Hochberg) and all-pairs tests
 * between groups with one of those corrections.
 */
import { checkSample, invalidArgument, type Sample } from '../errors.ts';
import { studentTTest, welchTTest } from './means.ts';
import { mannWhitneyU } from './ranks.ts';
import type { TestResult } from './result.ts';

export type Correction = 'bonferroni' | 'holm' | 'bh' | 'none';

/** Adjusted p-values in the input order (as statsmodels' multipletests). */
export function adjustPValues(pValues: Sample, method: Correction = 'holm'): number[] {
  checkSample('pValues', pValues);
  for (let i = 0; i < pValues.length; i++) {
    if (pValues[i] < 0 || pValues[i] > 1)
      invalidArgument(`pValues[${i}]`, `is ${pValues[i]}: p-values lie in [0, 1]`);
  }
  const m = pValues.length;
  const p = Array.from(pValues);
  if (method === 'none') return p;
  if (method === 'bonferroni') return p.map((v) => Math.min(1, v * m));
  const order = p.map((_, i) => i).sort((a, b) => p[a] - p[b]);
  const out = new Array<number>(m);
  if (method === 'holm') {
    let running = 0;
    order.forEach((idx, j) => {
      running = Math.max(running, Math.min(1, (m - j) * p[idx]));
      out[idx] = running;
    });
    return out;
  }
  if (method === 'bh') {
    let running = 1;
    for (let j = m - 1; j >= 0; j--) {
      const idx = order[j];
      running = Math.min(running, (m / (j + 1)) * p[idx]);
      out[idx] = Math.min(1, running);
    }
    return out;
  }
  return invalidArgument('method', `is ${String(method)}: use 'bonferroni', 'holm', 'bh' or 'none'`);
}

export type PairwiseTest = 'welch' | 'student' | 'mannWhitney';

export interface PairwiseOptions {
  /** The two-sample test (default 'welch'). */
  test?: PairwiseTest;
  /** The multiple-comparison correction (default 'holm'). */
  correction?: Correction;
}

export interface PairwiseComparison {
  /** Names (or indices) of the two groups; estimate = first − second where the test has one. */
  a: string;
  b: string;
  result: TestResult;
  adjustedPValue: number;
}

/** Every pair of groups compared by one two-sample test, p-values adjusted across all pairs. */
export function pairwiseTests(
  groups: Readonly<Record<string, Sample>> | readonly Sample[],
  options: PairwiseOptions = {},
): PairwiseComparison[] {
  const entries: [string, Sample][] = Array.isArray(groups)
    ? groups.map((g, i) => [String(i), g] as [string, Sample])
    : Object.entries(groups as Record<string, Sample>);
  if (entries.length < 2) invalidArgument('groups', 'needs at least 2 groups');
  const test = options.test ?? 'welch';
  const run =
    test === 'welch'
      ? welchTTest
      : test === 'student'
        ? studentTTest
        : test === 'mannWhitney'
          ? mannWhitneyU
          : undefined;
  if (run === undefined)
    return invalidArgument('test', `is ${String(test)}: use 'welch', 'student' or 'mannWhitney'`);
  const out: Omit<PairwiseComparison, 'adjustedPValue'>[] = [];
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      out.push({ a: entries[i][0], b: entries[j][0], result: run(entries[i][1], entries[j][1]) });
    }
  }
  const adjusted = adjustPValues(
    out.map((c) => c.result.pValue),
    options.correction ?? 'holm',
  );
  return out.map((c, i) => ({ ...c, adjustedPValue: adjusted[i] }));
}
