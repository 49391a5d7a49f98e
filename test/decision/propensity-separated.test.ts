/**
 * Thompson sampling's integrated propensities when one candidate's posterior lies far above every other's: the
 * integration grid must place nodes inside that candidate's support however wide the gap below it, or its sure
 * slot comes out as probability 0 (logged at the floor, an importance weight 10,000 times too large).
 */
import { describe, expect, it } from 'vitest';
import { PropensityScratch, thompsonPropensitiesByCounting } from '../../src/bandit/propensity.ts';
import { IntegralScratch, thompsonPropensitiesByIntegration } from '../../src/bandit/thompson-integral.ts';
import { createRng } from '../../src/stats/rng.ts';

describe('integrated Thompson propensities with a separated leader', () => {
  it('give the leader its sure first slot and match counted slates in the others', () => {
    // The leader: tempered Beta(274, 31) around 0.9; 99 others between 0.25 and 0.35, none near the leader.
    const n = 100;
    const alpha = new Float64Array(n);
    const beta = new Float64Array(n);
    const rng = createRng(11);
    alpha[0] = 273.78;
    beta[0] = 31.22;
    for (let i = 1; i < n; i++) {
      const mean = 0.25 + 0.1 * rng.next();
      const size = 150 + 1000 * rng.next();
      alpha[i] = mean * size;
      beta[i] = (1 - mean) * size;
    }
    const order = Array.from({ length: n }, (_, i) => i).sort(
      (a, b) => alpha[b] / (alpha[b] + beta[b]) - alpha[a] / (alpha[a] + beta[a]),
    );
    const shown = Int32Array.from(order.slice(0, 5));
    expect(shown[0]).toBe(0);
    const integrated = new Float64Array(5);
    thompsonPropensitiesByIntegration(alpha, beta, n, shown, 5, new IntegralScratch(), integrated, 0);
    const counted = new Float64Array(5);
    thompsonPropensitiesByCounting(
      alpha,
      beta,
      n,
      shown,
      5,
      createRng(5),
      100_000,
      new PropensityScratch(n),
      counted,
    );
    expect(integrated[0]).toBeGreaterThan(0.999);
    for (let s = 1; s < 5; s++) expect(Math.abs(integrated[s] - counted[s])).toBeLessThan(0.01);
  });
});
