import { describe, expect, it } from 'vitest';
import { fitPriorStrength } from '../../simulator/bandit/empirical-prior.ts';
import { sampleBeta } from '../../src/stats/beta-sampler.ts';
import { createRng } from '../../src/stats/rng.ts';

/** Arms whose click-through is drawn from Beta(m·p̂, m·(1 − p̂)) around p̂ ∈ [2 %, 20 %], counted n times each. */
function armsAround(m: number, arms: number, seed: number) {
  const rng = createRng(seed);
  const impressions = new Float64Array(arms);
  const clicks = new Float64Array(arms);
  const predicted = new Float64Array(arms);
  for (let i = 0; i < arms; i++) {
    const p = 0.02 + 0.18 * rng.next();
    const truth = sampleBeta(rng, m * p, m * (1 - p));
    const n = 100 + Math.floor(900 * rng.next());
    let c = 0;
    for (let k = 0; k < n; k++) if (rng.next() < truth) c++;
    impressions[i] = n;
    clicks[i] = c;
    predicted[i] = n * p;
  }
  return {
    impressions,
    clicks,
    predicted,
    arms: Int32Array.from({ length: arms }, (_, i) => i),
    count: arms,
  };
}

const FIT = { prior: 60, priorWeight: 0, min: 1, max: 2000 };

describe('fitPriorStrength', () => {
  it('recovers the strength of the prior the arms were drawn from, beyond the coin flips of their clicks', () => {
    for (const m of [10, 50, 200]) {
      const fitted = fitPriorStrength(armsAround(m, 2000, m), FIT);
      expect(fitted).toBeGreaterThan(0.75 * m);
      expect(fitted).toBeLessThan(1.33 * m);
    }
  });

  it('gives the prior guess while no arm has counts, and moves from it as counts come in', () => {
    const none = { impressions: [], clicks: [], predicted: [], arms: [], count: 0 };
    expect(fitPriorStrength(none, { ...FIT, priorWeight: 5000 })).toBeCloseTo(60, 9);
    const few = fitPriorStrength(armsAround(10, 20, 7), { ...FIT, priorWeight: 5000 });
    const many = fitPriorStrength(armsAround(10, 2000, 7), { ...FIT, priorWeight: 5000 });
    expect(few).toBeLessThan(60);
    expect(Math.abs(many - 10)).toBeLessThan(Math.abs(few - 10));
  });

  it('holds the fit in its bounds when the counts agree with p̂ better than coin flips would', () => {
    const exact = { impressions: [500, 800], clicks: [40, 64], predicted: [40, 64], arms: [0, 1], count: 2 };
    expect(fitPriorStrength(exact, FIT)).toBe(2000);
  });
});
