/**
 * Chi-squared tests on counts: independence in an r×c contingency table (optional Yates correction for
 * 2×2) and goodness of fit against expected counts or probabilities.
 */
import { CroupierError } from '../../errors/index.ts';
import { chiSquared } from '../distributions/sampling.ts';
import { checkCounts, invalidArgument, type Sample } from '../errors.ts';
import type { TestResult } from './result.ts';

export interface ChiSquaredResult extends TestResult {
  df: number;
  /** Expected counts under the null hypothesis (rows of the table for the independence test). */
  expected: number[][] | number[];
}

export interface IndependenceOptions {
  /** Apply Yates' continuity correction when the table is 2×2 (df = 1). Default false. */
  yates?: boolean;
}

/** Pearson's chi-squared test of independence of the rows and columns of a contingency table. */
export function chiSquaredIndependence(
  table: readonly Sample[],
  options: IndependenceOptions = {},
): ChiSquaredResult {
  if (!Array.isArray(table) || table.length < 2) invalidArgument('table', 'must have at least 2 rows');
  const r = table.length;
  const c = table[0].length;
  table.forEach((row, i) => {
    checkCounts(`table[${i}]`, row);
    if (row.length !== c) {
      throw new CroupierError(
        'CROUPIER_ERR_STATS_LENGTH_MISMATCH',
        `table[${i}] has ${row.length} columns but table[0] has ${c}: every row needs the same columns`,
        { argument: 'table' },
      );
    }
  });
  if (c < 2) invalidArgument('table', 'must have at least 2 columns');
  const rows = new Float64Array(r);
  const cols = new Float64Array(c);
  let total = 0;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      rows[i] += table[i][j];
      cols[j] += table[i][j];
      total += table[i][j];
    }
  }
  rows.forEach((s, i) => {
    if (s === 0) invalidArgument('table', `row ${i} sums to 0: every row and column needs a count`);
  });
  cols.forEach((s, j) => {
    if (s === 0) invalidArgument('table', `column ${j} sums to 0: every row and column needs a count`);
  });
  const df = (r - 1) * (c - 1);
  const yates = options.yates === true && df === 1;
  const expected: number[][] = [];
  let stat = 0;
  for (let i = 0; i < r; i++) {
    const row: number[] = [];
    for (let j = 0; j < c; j++) {
      const e = (rows[i] * cols[j]) / total;
      row.push(e);
      let d = Math.abs(table[i][j] - e);
      if (yates) d -= Math.min(0.5, d);
      stat += (d * d) / e;
    }
    expected.push(row);
  }
  return {
    statistic: stat,
    pValue: chiSquared({ df }).sf(stat),
    df,
    expected,
    alternative: 'greater',
    method: `chi-squared test of independence${yates ? ' with Yates correction' : ''}`,
  };
}

export interface GoodnessOfFitOptions {
  /** Expected counts (summing to the observed total), or… */
  expected?: Sample;
  /** …expected probabilities (summing to 1). Without either, all categories are equally likely. */
  probabilities?: Sample;
  /** Degrees of freedom lost to parameters estimated from the data (default 0). */
  ddof?: number;
}

/** Pearson's chi-squared goodness-of-fit test, df = k − 1 − ddof. */
export function chiSquaredGoodnessOfFit(
  observed: Sample,
  options: GoodnessOfFitOptions = {},
): ChiSquaredResult {
  checkCounts('observed', observed);
  const k = observed.length;
  if (k < 2) invalidArgument('observed', 'needs at least 2 categories');
  let total = 0;
  for (let i = 0; i < k; i++) total += observed[i];
  let expected: number[];
  if (options.expected !== undefined && options.probabilities !== undefined) {
    invalidArgument('options', 'give expected counts or probabilities, not both');
  }
  if (options.expected !== undefined) {
    checkCounts('expected', options.expected);
    if (options.expected.length !== k) {
      throw new CroupierError(
        'CROUPIER_ERR_STATS_LENGTH_MISMATCH',
        `expected has ${options.expected.length} categories but observed has ${k}`,
        {
          argument: 'expected',
        },
      );
    }
    expected = Array.from(options.expected);
    const sum = expected.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - total) > 1e-8 * total) {
      invalidArgument(
        'expected',
        `sums to ${sum} but observed sums to ${total}: expected counts must have the same total`,
      );
    }
  } else if (options.probabilities !== undefined) {
    checkCounts('probabilities', options.probabilities);
    if (options.probabilities.length !== k) {
      throw new CroupierError(
        'CROUPIER_ERR_STATS_LENGTH_MISMATCH',
        `probabilities has ${options.probabilities.length} categories but observed has ${k}`,
        { argument: 'probabilities' },
      );
    }
    const sum = Array.from(options.probabilities).reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-8) invalidArgument('probabilities', `sum to ${sum}: they must sum to 1`);
    expected = Array.from(options.probabilities, (p) => p * total);
  } else {
    expected = new Array<number>(k).fill(total / k);
  }
  const ddof = options.ddof ?? 0;
  const df = k - 1 - ddof;
  if (!Number.isInteger(ddof) || ddof < 0 || df < 1) {
    invalidArgument('ddof', `is ${ddof}: it must be a non-negative integer below ${k - 1}`);
  }
  let stat = 0;
  for (let i = 0; i < k; i++) {
    if (expected[i] === 0)
      invalidArgument('expected', `is 0 in category ${i}: every expected count must be positive`);
    const d = observed[i] - expected[i];
    stat += (d * d) / expected[i];
  }
  return {
    statistic: stat,
    pValue: chiSquared({ df }).sf(stat),
    df,
    expected,
    alternative: 'greater',
    method: 'chi-squared goodness-of-fit test',
  };
}
