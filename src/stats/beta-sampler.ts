/**
 * Gamma and Beta sampling for Thompson sampling (Marsaglia & Tsang 2000). Beta(α, β) = X / (X + Y) with
 * X ~ Gamma(α), Y ~ Gamma(β). For shape < 1 the boost Gamma(a) = Gamma(a + 1) · U^(1/a) is used.
 */
import type { Rng } from './rng.ts';

/** One draw from Gamma(shape, 1). shape > 0. */
export function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) {
    const u = rng.next();
    return sampleGamma(rng, shape + 1) * (u > 0 ? u ** (1 / shape) : 0);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x = 0;
    let v = 0;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return d * v;
    if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** One draw from Beta(alpha, beta). alpha, beta > 0. */
export function sampleBeta(rng: Rng, alpha: number, beta: number): number {
  const x = sampleGamma(rng, alpha);
  const y = sampleGamma(rng, beta);
  return x / (x + y);
}
