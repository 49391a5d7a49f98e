/**
 * Residual and design diagnostics of a least-squares fit: Durbin–Watson, Koenker's Breusch–Pagan LM test, and
 * variance inflation factors.
 */
import { chiSquared } from '../distributions/sampling.ts';
import type { Design } from './design.ts';
import { qrDecompose, solveLeastSquares } from './linalg.ts';

/** Σ (e_t − e_{t−1})² / Σ e_t²: near 2 without autocorrelation. */
export function durbinWatson(residuals: readonly number[]): number {
  let num = 0;
  let den = residuals[0] * residuals[0];
  for (let t = 1; t < residuals.length; t++) {
    num += (residuals[t] - residuals[t - 1]) ** 2;
    den += residuals[t] * residuals[t];
  }
  return num / den;
}

/** R² of regressing `target` on the columns of `x` (column-major n × k); centred when `centred`. */
function rSquaredOf(
  x: Float64Array,
  n: number,
  k: number,
  target: ArrayLike<number>,
  centred: boolean,
): number {
  const f = qrDecompose(x, n, k, []);
  const beta = solveLeastSquares(f, target);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += target[i];
  mean /= n;
  let ssr = 0;
  let tss = 0;
  for (let i = 0; i < n; i++) {
    let fit = 0;
    for (let j = 0; j < k; j++) fit += x[j * n + i] * beta[j];
    ssr += (target[i] - fit) ** 2;
    tss += centred ? (target[i] - mean) ** 2 : target[i] * target[i];
  }
  return 1 - ssr / tss;
}

/** Koenker's studentised Breusch–Pagan test: n·R² of e² on X, χ² with p − 1 df (statsmodels' default). */
export function breuschPagan(
  d: Design,
  residuals: readonly number[],
): { statistic: number; pValue: number; df: number } {
  const e2 = residuals.map((e) => e * e);
  const lm = d.n * rSquaredOf(d.x, d.n, d.p, e2, true);
  const df = d.p - 1;
  return { statistic: lm, pValue: chiSquared({ df }).sf(lm), df };
}

/** VIF_j = 1 / (1 − R²_j), R²_j from regressing predictor j on all other columns (the intercept excluded). */
export function varianceInflation(d: Design): number[] {
  const { n, p } = d;
  const first = d.intercept ? 1 : 0;
  const out: number[] = [];
  for (let j = first; j < p; j++) {
    const others = new Float64Array(n * (p - 1));
    let c = 0;
    for (let k = 0; k < p; k++) {
      if (k === j) continue;
      others.set(d.x.subarray(k * n, k * n + n), c * n);
      c++;
    }
    const target = d.x.subarray(j * n, j * n + n);
    out.push(p === 1 ? 1 : 1 / (1 - rSquaredOf(others, n, p - 1, target, d.intercept)));
  }
  return out;
}
