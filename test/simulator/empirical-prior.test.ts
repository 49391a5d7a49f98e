import { describe, expect, it } from 'vitest';
import { addMomentSums, fitPriorStrength, strengthOf } from '../../simulator/bandit/empirical-prior.ts';
import { sampleBeta } from '../../src/stats/beta-sampler.ts';
import { createRng } from '../../src/stats/rng.ts';

/**
 * Arms whose click-through is drawn from Beta(m·r·p̂, m·(1 − r·p̂)) around r·p̂, p̂ ∈ [2 %, 20 %], counted n times
 * each: r = 1 is a model right on average, any other r a miscalibration every arm shares.
 */
function armsAround(m: number, arms: number, seed: number, r = 1) {
  const rng = createRng(seed);
  const impressions = new Float64Array(arms);
  const clicks = new Float64Array(arms);
  const predicted = new Float64Array(arms);
  for (let i = 0; i < arms; i++) {
    const p = 0.02 + 0.18 * rng.next();
    const truth = sampleBeta(rng, m * r * p, m * (1 - r * p));
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

  it('reads only arms with enough examinations when told to', () => {
    const counted = armsAround(50, 400, 3);
    // 30 arms of 90 examinations each, clicked half the time where p̂ said 8 %.
    const young = 30;
    const arms = {
      impressions: [...counted.impressions, ...new Array(young).fill(90)],
      clicks: [...counted.clicks, ...new Array(young).fill(45)],
      predicted: [...counted.predicted, ...new Array(young).fill(7.2)],
      arms: Int32Array.from({ length: 400 + young }, (_, i) => i),
      count: 400 + young,
    };
    const alone = fitPriorStrength(counted, FIT);
    // They pull the fit down…
    expect(fitPriorStrength(arms, FIT)).toBeLessThan(0.9 * alone);
    // …unless arms under 100 examinations are left out (every arm drawn above has 100 or more).
    expect(fitPriorStrength(arms, { ...FIT, minImpressions: 100 })).toBeCloseTo(alone, 9);
  });

  it('reads the spread net of a miscalibration every arm shares when calibrated', () => {
    const shifted = armsAround(50, 2000, 11, 0.6);
    const net = fitPriorStrength(shifted, { ...FIT, calibrated: true });
    expect(net).toBeGreaterThan(0.75 * 50);
    expect(net).toBeLessThan(1.33 * 50);
    // Read around p̂ itself, the shared 40 % overrating counts as the model's error about every item.
    expect(fitPriorStrength(shifted, FIT)).toBeLessThan(0.6 * net);
  });

  it("adds several segments' arms into one fit, as if they were one segment's", () => {
    const whole = armsAround(30, 600, 5);
    const half = (from: number) => ({ ...whole, arms: whole.arms.subarray(from, from + 300), count: 300 });
    const fit = { ...FIT, priorWeight: 5000 };
    const sums = addMomentSums(half(300), fit, addMomentSums(half(0), fit, { excess: 0, scale: 0 }));
    expect(strengthOf(sums, fit)).toBeCloseTo(fitPriorStrength(whole, fit), 9);
    expect(strengthOf(sums, fit)).not.toBeCloseTo(fitPriorStrength(half(0), fit), 1);
  });

  it('holds the fit in its bounds when the counts agree with p̂ better than coin flips would', () => {
    const exact = { impressions: [500, 800], clicks: [40, 64], predicted: [40, 64], arms: [0, 1], count: 2 };
    expect(fitPriorStrength(exact, FIT)).toBe(2000);
  });
});
