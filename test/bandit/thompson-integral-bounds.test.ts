/**
 * The two bounds that let the integrated Thompson propensities skip work, checked with the statistics library's
 * incomplete beta function (not the integral's own CDFs): the Chernoff support bounds (Newton's method) leave at
 * most 1e-8 of a posterior's mass outside and are not much wider than that; and where the node sweep ends, fewer
 * than k of the other candidates are above x with probability at most 1e-8, for every shown item, while the
 * shown items still hold real mass below that point (so ending there is what saves the work). And the densities
 * the sweep steps from node to node by their ratios stay within 1e-10 (relative) of the exact ones.
 */
import { describe, expect, it } from 'vitest';
import {
  chernoffExponent,
  insideSupport,
  LOG_TAIL,
  lowerBound,
  upperBound,
} from '../../src/bandit/integral-support.ts';
import { selectTopK } from '../../src/bandit/slate.ts';
import { IntegralScratch, thompsonPropensitiesByIntegration } from '../../src/bandit/thompson-integral.ts';
import { chernoffLowerTail, chernoffTail } from '../../src/bandit/thompson-propensity.ts';
import { sampleBeta } from '../../src/stats/beta-sampler.ts';
import { createRng } from '../../src/stats/rng.ts';
import { betaInc, logBeta } from '../../src/stats/special.ts';

const N = 200;
const K = 10;

/**
 * Posteriors with the model-informed prior (strength 20) of mature arms (narrow) and cold ones (wide) in the share
 * `coldShare`, and a Thompson slate drawn from them.
 */
function thompsonState(coldShare: number, rng: ReturnType<typeof createRng>) {
  const alpha = new Float64Array(N);
  const beta = new Float64Array(N);
  const draws = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const p = 0.01 + 0.2 * rng.next() ** 2;
    const seen = rng.next() < coldShare ? Math.round(50 * rng.next()) : Math.round(100 * 300 ** rng.next());
    const clicks = Math.round(seen * p * (0.6 + 0.8 * rng.next()));
    alpha[i] = 20 * p + clicks;
    beta[i] = 20 * (1 - p) + seen - clicks;
    draws[i] = sampleBeta(rng, alpha[i], beta[i]);
  }
  const shown = new Int32Array(K);
  selectTopK(draws, null, N, K, shown);
  return { alpha, beta, shown };
}

/** P(fewer than k of the candidates other than `self` exceed x), with exact tails. */
function fewerThanKAbove(alpha: Float64Array, beta: Float64Array, self: number, x: number): number {
  const poly = new Float64Array(K);
  poly[0] = 1;
  for (let j = 0; j < N; j++) {
    if (j === self) continue;
    const q = betaInc(beta[j], alpha[j], 1 - x);
    for (let m = K - 1; m > 0; m--) poly[m] = poly[m] * (1 - q) + poly[m - 1] * q;
    poly[0] *= 1 - q;
  }
  return poly.reduce((sum, v) => sum + v, 0);
}

describe('bounds of the integrated Thompson propensities', () => {
  it('support bounds leave at most 1e-8 of the mass outside, within a factor e^0.5 of the Chernoff bound', () => {
    const rng = createRng(31);
    for (let i = 0; i < 2000; i++) {
      const size = 0.5 + 10 ** (5 * rng.next());
      const mean = 10 ** (-4 * rng.next());
      const a = Math.max(0.05, size * mean);
      const b = Math.max(0.05, size * (1 - mean));
      const mu = a / (a + b);
      const sd = Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1)));
      const hi = upperBound(a, b, mu, sd);
      const lo = lowerBound(a, b, mu, sd);
      expect(hi).toBeGreaterThan(mu);
      expect(lo).toBeLessThan(mu);
      if (hi < 1) {
        expect(betaInc(b, a, 1 - hi)).toBeLessThanOrEqual(1e-8);
        expect(chernoffTail(a, b, mu, hi)).toBeGreaterThan(1e-8 * Math.exp(-0.5));
      }
      if (lo > 0) {
        expect(betaInc(a, b, lo)).toBeLessThanOrEqual(1e-8);
        expect(chernoffLowerTail(a, b, mu, lo)).toBeGreaterThan(1e-8 * Math.exp(-0.5));
      }
    }
  });

  it('tell a point inside a support from one outside as the Chernoff exponent does, shortcuts included', () => {
    const rng = createRng(37);
    let inside = 0;
    let outside = 0;
    for (let i = 0; i < 20000; i++) {
      const size = 0.5 + 10 ** (5 * rng.next());
      const mean = 10 ** (-4 * rng.next());
      const sd = Math.sqrt((mean * (1 - mean)) / (size + 1));
      const x = Math.min(1 - 1e-12, Math.max(1e-12, mean + (rng.next() - 0.5) * 24 * sd));
      const expected = chernoffExponent(size, mean, x) < LOG_TAIL;
      expect(insideSupport(size, mean, x)).toBe(expected);
      if (expected) inside++;
      else outside++;
    }
    expect(Math.min(inside, outside)).toBeGreaterThan(2000);
  });

  it('end the sweep only where fewer than k others are above x with probability at most 1e-8', () => {
    const rng = createRng(2031);
    const scratch = new IntegralScratch();
    const out = new Float64Array(K);
    let cut = 0;
    for (let t = 0; t < 12; t++) {
      const { alpha, beta, shown } = thompsonState([0.3, 0, 0.8][t % 3], rng);
      const { end } = thompsonPropensitiesByIntegration(alpha, beta, N, shown, K, scratch, out, 1e-12);
      let below = 0;
      for (let s = 0; s < K; s++) {
        const i = shown[s];
        expect(fewerThanKAbove(alpha, beta, i, end)).toBeLessThanOrEqual(1.5e-8);
        below = Math.max(below, betaInc(alpha[i], beta[i], end));
      }
      if (below > 0.01) cut++;
    }
    expect(cut).toBeGreaterThanOrEqual(6);
  });

  it('step each density from node to node within 1e-10 of the exact density', () => {
    const rng = createRng(2039);
    const scratch = new IntegralScratch();
    const out = new Float64Array(K);
    for (const resolution of [undefined, { nodesPerSd: 24, maxCells: 2000 }]) {
      let checked = 0;
      let worst = 0;
      for (let t = 0; t < 6; t++) {
        const { alpha, beta, shown } = thompsonState([0.3, 0, 0.8][t % 3], rng);
        const estimate = thompsonPropensitiesByIntegration(
          alpha,
          beta,
          N,
          shown,
          K,
          scratch,
          out,
          1e-12,
          resolution,
        );
        const { grid, firstNode, lastNode, known, density } = scratch;
        let endNode = 0;
        while (grid[endNode] < estimate.end) endNode++;
        // Every candidate stepped down to the sweep's end, or to its support's start, holds its density there.
        for (let r = 0; r < estimate.active; r++) {
          const g = Math.max(firstNode[r], endNode);
          if (lastNode[r] < g || known[r] === 0) continue;
          const a = scratch.a[r];
          const b = scratch.b[r];
          const x = grid[g];
          const exact = Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - logBeta(a, b));
          if (exact < 1e-200) continue;
          worst = Math.max(worst, Math.abs(density[r] / exact - 1));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(100);
      expect(worst).toBeLessThan(1e-10);
    }
  });
});
