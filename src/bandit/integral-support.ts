/**
 * Where a Beta posterior's mass lies, for the Thompson propensity integral (thompson-integral.ts): support bounds
 * that leave at most TAIL = 1e-8 outside by the Chernoff bound P(θ ≥ x) ≤ exp(−(α + β)·KL(μ ‖ x)) (see
 * `chernoffTail`), and the region below which at least k candidates are above x but for TAIL each.
 */

import type { IntegralScratch } from './integral-scratch.ts';
import { selectTopK } from './slate.ts';

/** Largest probability mass a support bound or a left-out candidate may miss. */
export const TAIL = 1e-8;
/** ln(1 / TAIL): the exponent (α + β)·KL(μ ‖ x) at which the Chernoff bound reaches TAIL. */
export const LOG_TAIL = -Math.log(TAIL);

/** (α + β)·KL(μ ‖ x), the Chernoff exponent of P(θ ≥ x) above μ and of P(θ ≤ x) below it. */
export function chernoffExponent(size: number, mean: number, x: number): number {
  return exponentAt(size, mean, Math.log1p(-mean), x);
}

/** `chernoffExponent` given ln(1 − μ), for the searches that evaluate it at several x. */
function exponentAt(size: number, mean: number, log1mMean: number, x: number): number {
  return size * (mean * Math.log(mean / x) + (1 - mean) * (log1mMean - Math.log1p(-x)));
}

/**
 * True when the Chernoff bound at x exceeds TAIL (x lies within the support bounds), for a posterior of size
 * α + β and mean μ. KL(μ ‖ x) ≤ (x − μ)² / (x(1 − x)) (the χ² divergence) answers most cases inside without a
 * logarithm, and KL(μ ‖ x) ≥ (x − μ)²/2 · (μ/M² + (1 − μ)/N²), M = max(μ, x), N = max(1 − μ, 1 − x) (its second
 * derivative in x, μ/ξ² + (1 − μ)/(1 − ξ)², is at least that between μ and x) most cases outside.
 */
export function insideSupport(size: number, mean: number, x: number): boolean {
  const d = x - mean;
  const d2 = size * d * d;
  if (d2 < LOG_TAIL * x * (1 - x)) return true;
  const high = Math.max(mean, x);
  const low = Math.min(mean, x);
  if (0.5 * d2 * (mean / (high * high) + (1 - mean) / ((1 - low) * (1 - low))) >= LOG_TAIL) return false;
  return chernoffExponent(size, mean, x) < LOG_TAIL;
}

/**
 * The x on the side of μ that `direction` (+1 above, −1 below) says where the Chernoff exponent reaches
 * ln(1/TAIL), or just beyond it: Newton's method on the exponent, convex in x on either side of μ, started at
 * 6σ, near where a Gaussian's exponent reaches ln(1/TAIL) (√(2·ln 10⁸) ≈ 6.07), or at 4σ when 6σ is outside
 * (0, 1). A step from short of the root lands on or beyond it (a convex function lies above its tangents) and the
 * next ones come back towards it from beyond, so every iterate after the first is a valid bound; a last check makes
 * sure. 1 or 0 when the bound does not fall below TAIL inside (0, 1).
 */
function supportBound(a: number, b: number, mean: number, sd: number, direction: 1 | -1): number {
  const size = a + b;
  const log1mMean = Math.log1p(-mean);
  let x = mean + direction * 6 * sd;
  if (x >= 1 || x <= 0) x = mean + direction * 4 * sd;
  for (let i = 0; i < 16; i++) {
    if (x >= 1) return 1;
    if (x <= 0) return 0;
    const excess = exponentAt(size, mean, log1mMean, x) - LOG_TAIL;
    if (excess >= 0 && excess < 0.5) return x;
    x -= excess / ((size * (x - mean)) / (x * (1 - x)));
  }
  if (x >= 1) return 1;
  if (x <= 0) return 0;
  // Not within 0.5 of the root after 16 steps: the last iterate is beyond it (or rounding put it short, and the
  // search steps outwards until the bound holds).
  for (let d = Math.abs(x - mean); exponentAt(size, mean, log1mMean, x) < LOG_TAIL; d *= 1.05) {
    x = mean + direction * d;
    if (x >= 1) return 1;
    if (x <= 0) return 0;
  }
  return x;
}

/** Smallest x ≥ μ with P(θ > x) ≤ TAIL by the Chernoff bound (1 when none below 1). */
export function upperBound(a: number, b: number, mean: number, sd: number): number {
  return supportBound(a, b, mean, sd, 1);
}

/** Largest x ≤ μ with P(θ < x) ≤ TAIL by the Chernoff bound (0 when none above 0). */
export function lowerBound(a: number, b: number, mean: number, sd: number): number {
  return supportBound(a, b, mean, sd, -1);
}

/**
 * The region's start: the shown items' lowest support bound, raised to the (k+1)-th largest lower support
 * bound of all candidates (below it at least k others are above x, but for ≤ 1e-8 each: every slot's integrand
 * vanishes there). Screens by μ − 6σ, then bounds the best 2(k + 1) exactly.
 */
export function regionStart(
  alpha: Float64Array,
  beta: Float64Array,
  n: number,
  k: number,
  shownLow: number,
  scratch: IntegralScratch,
): number {
  if (n <= k + 1) return shownLow;
  const screened = Math.min(n, 2 * (k + 1));
  const { screen, screenOrder } = scratch.screening(n);
  for (let j = 0; j < n; j++) {
    const a = alpha[j];
    const b = beta[j];
    const sum = a + b;
    screen[j] = a / sum - 6 * Math.sqrt((a * b) / (sum * sum * (sum + 1)));
  }
  selectTopK(screen, null, n, screened, screenOrder);
  for (let m = 0; m < screened; m++) {
    const j = screenOrder[m];
    const a = alpha[j];
    const b = beta[j];
    const sum = a + b;
    screen[m] = lowerBound(a, b, a / sum, Math.sqrt((a * b) / (sum * sum * (sum + 1))));
  }
  selectTopK(screen, null, screened, k + 1, screenOrder);
  return Math.max(shownLow, screen[screenOrder[k]]);
}
