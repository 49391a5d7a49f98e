/**
 * The noncentral t distribution function, used for the power of t-tests. For t ≥ 0 (Lenth 1989, AS 243):
 * F(t; ν, δ) = Φ(−δ) + ½ Σ_j [P_j I_x(j + ½, ν/2) + δ/√2 · Q_j I_x(j + 1, ν/2)], x = t² / (t² + ν),
 * with Poisson weights P_j = e^{−δ²/2} (δ²/2)^j / j! and Q_j = e^{−δ²/2} (δ²/2)^j / Γ(j + 3/2).
 * For t < 0, F(t; ν, δ) = 1 − F(−t; ν, −δ).
 */
import { betaInc, logGamma, normalCdf } from './special.ts';

function cdfNonNegative(t: number, df: number, delta: number): number {
  const t2 = t * t;
  const x = t2 / (t2 + df);
  const y = df / (t2 + df);
  const lambda = (delta * delta) / 2;
  let sum = 0;
  if (x > 0) {
    const spread = Math.ceil(12 * Math.sqrt(lambda) + 30);
    const mode = Math.floor(lambda);
    const from = Math.max(0, mode - spread);
    const to = mode + spread;
    const logLambda = lambda > 0 ? Math.log(lambda) : Number.NEGATIVE_INFINITY;
    for (let j = from; j <= to; j++) {
      const logPow = j === 0 ? 0 : j * logLambda;
      const p = Math.exp(-lambda + logPow - logGamma(j + 1));
      const q = Math.exp(-lambda + logPow - logGamma(j + 1.5));
      sum += p * betaInc(j + 0.5, df / 2, x, y);
      if (delta !== 0) sum += (delta / Math.SQRT2) * q * betaInc(j + 1, df / 2, x, y);
    }
  }
  return normalCdf(-delta) + 0.5 * sum;
}

/** P(T ≤ t) for T noncentral t with `df` degrees of freedom and noncentrality `delta`. */
export function noncentralTCdf(t: number, df: number, delta: number): number {
  const p = t >= 0 ? cdfNonNegative(t, df, delta) : 1 - cdfNonNegative(-t, df, -delta);
  return Math.min(1, Math.max(0, p));
}

/** P(T > t). */
export function noncentralTSf(t: number, df: number, delta: number): number {
  const p = t >= 0 ? 1 - cdfNonNegative(t, df, delta) : cdfNonNegative(-t, df, -delta);
  return Math.min(1, Math.max(0, p));
}
