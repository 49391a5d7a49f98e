/**
 * D'Agostino–Pearson K² omnibus test of normality: the squared z-scores of the skewness test (D'Agostino
 * 1970) and the kurtosis test (Anscombe & Glynn 1983) summed, compared with χ²(2).
 */
import { meanOf } from '../descriptive.ts';
import { chiSquared } from '../distributions/sampling.ts';
import { checkSample, type Sample, zeroVariance } from '../errors.ts';
import type { TestResult } from './result.ts';

export interface NormalityResult extends TestResult {
  df: number;
  skewness: number;
  /** Pearson's kurtosis m4 / m2² (3 for a normal distribution). */
  kurtosis: number;
  skewnessZ: number;
  kurtosisZ: number;
}

function skewnessZ(b1: number, n: number): number {
  let y = b1 * Math.sqrt(((n + 1) * (n + 3)) / (6 * (n - 2)));
  const beta2 = (3 * (n * n + 27 * n - 70) * (n + 1) * (n + 3)) / ((n - 2) * (n + 5) * (n + 7) * (n + 9));
  const w2 = -1 + Math.sqrt(2 * (beta2 - 1));
  const delta = 1 / Math.sqrt(0.5 * Math.log(w2));
  const alpha = Math.sqrt(2 / (w2 - 1));
  if (y === 0) y = 1;
  const ya = y / alpha;
  return delta * Math.log(ya + Math.sqrt(ya * ya + 1));
}

function kurtosisZ(b2: number, n: number): number {
  const e = (3 * (n - 1)) / (n + 1);
  const varb2 = (24 * n * (n - 2) * (n - 3)) / ((n + 1) * (n + 1) * (n + 3) * (n + 5));
  const x = (b2 - e) / Math.sqrt(varb2);
  const sqrtBeta1 =
    ((6 * (n * n - 5 * n + 2)) / ((n + 7) * (n + 9))) *
    Math.sqrt((6 * (n + 3) * (n + 5)) / (n * (n - 2) * (n - 3)));
  const a = 6 + (8 / sqrtBeta1) * (2 / sqrtBeta1 + Math.sqrt(1 + 4 / (sqrtBeta1 * sqrtBeta1)));
  const term1 = 1 - 2 / (9 * a);
  const denom = 1 + x * Math.sqrt(2 / (a - 4));
  const term2 = Math.sign(denom) * Math.cbrt((1 - 2 / a) / Math.abs(denom));
  return (term1 - term2) / Math.sqrt(2 / (9 * a));
}

/** D'Agostino–Pearson K² test; needs at least 8 values (20 or more for a trustworthy kurtosis z). */
export function normalityTest(x: Sample): NormalityResult {
  checkSample('x', x, 8);
  const n = x.length;
  const m = meanOf(x);
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - m;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  if (m2 === 0) zeroVariance('x');
  const skewness = m3 / m2 ** 1.5;
  const kurtosis = m4 / (m2 * m2);
  const zs = skewnessZ(skewness, n);
  const zk = kurtosisZ(kurtosis, n);
  const k2 = zs * zs + zk * zk;
  return {
    statistic: k2,
    pValue: chiSquared({ df: 2 }).sf(k2),
    df: 2,
    skewness,
    kurtosis,
    skewnessZ: zs,
    kurtosisZ: zk,
    alternative: 'two-sided',
    method: "D'Agostino–Pearson K² normality test",
  };
}
