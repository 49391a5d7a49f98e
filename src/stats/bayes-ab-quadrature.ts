/**
 * Numerical integration behind the exact Bayesian A/B figures: double-exponential (tanh-sinh) quadrature,
 * which converges fast on smooth integrands and tolerates the integrable endpoint singularities of Beta
 * densities with a shape below 1, applied piecewise between breakpoints placed where the posteriors put
 * their mass. Several integrands share one pass over the nodes, so each costly Beta CDF is evaluated once
 * per node for all of them.
 */

const HALF_PI = Math.PI / 2;
/** Abscissae beyond |t| = 4 sit within 1e-300 of an endpoint: nothing left to add. */
const T_MAX = 4;
const MAX_LEVELS = 9;

/** Fills `out[0..count)` with the integrands' values at x. */
export type VectorIntegrand = (x: number, out: Float64Array) => void;

/**
 * Adds ∫_a^b f_i(x) dx for i < count to `total`, halving the tanh-sinh step until two levels agree to
 * `relTolerance` (relative to each integral, or `absTolerance` absolute for the tiny ones). Abscissae are
 * placed from the nearer endpoint, so points crowding an endpoint never round onto it.
 */
export function tanhSinhInto(
  f: VectorIntegrand,
  count: number,
  a: number,
  b: number,
  total: Float64Array,
  relTolerance = 1e-12,
  absTolerance = 1e-17,
): void {
  if (!(b > a)) return;
  const half = (b - a) / 2;
  const values = new Float64Array(count);
  const sums = new Float64Array(count);
  const previous = new Float64Array(count);
  const add = (t: number): void => {
    const s = HALF_PI * Math.sinh(t);
    const cosh = Math.cosh(s);
    const weight = (HALF_PI * Math.cosh(t)) / (cosh * cosh);
    // 1 − tanh(s) = 2 / (e^{2s} + 1), computed directly so points near b keep their precision.
    const towardB = 2 / (Math.exp(2 * s) + 1);
    const fromA = half * (2 - towardB);
    const toB = half * towardB;
    if (!(fromA > 0 && toB > 0) || weight === 0) return;
    f(fromA < toB ? a + fromA : b - toB, values);
    for (let i = 0; i < count; i++) if (Number.isFinite(values[i])) sums[i] += weight * values[i];
  };
  let h = 0.5;
  add(0);
  for (let t = h; t <= T_MAX; t += h) {
    add(t);
    add(-t);
  }
  for (let i = 0; i < count; i++) previous[i] = sums[i] * h * half;
  for (let level = 0; level < MAX_LEVELS; level++) {
    h /= 2;
    for (let t = h; t <= T_MAX; t += 2 * h) {
      add(t);
      add(-t);
    }
    let converged = true;
    for (let i = 0; i < count; i++) {
      const next = sums[i] * h * half;
      if (Math.abs(next - previous[i]) > relTolerance * Math.abs(next) + absTolerance) converged = false;
      previous[i] = next;
    }
    if (converged && level >= 1) break;
  }
  for (let i = 0; i < count; i++) total[i] += previous[i];
}

/** ∫ f_i over [lo, hi], split at the breakpoints that fall inside. */
export function integratePiecewise(
  f: VectorIntegrand,
  count: number,
  lo: number,
  hi: number,
  breakpoints: readonly number[],
): Float64Array {
  const cuts = [lo, ...breakpoints.filter((p) => p > lo && p < hi), hi].sort((x, y) => x - y);
  const total = new Float64Array(count);
  for (let i = 0; i + 1 < cuts.length; i++) {
    if (cuts[i + 1] > cuts[i]) tanhSinhInto(f, count, cuts[i], cuts[i + 1], total);
  }
  return total;
}
