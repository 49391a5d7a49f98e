import { describe, expect, it } from 'vitest';
import { SlateExplorer } from '../../src/bandit/explorer.ts';
import { armTemperature, fillPosteriors, type Tempering } from '../../src/bandit/posterior.ts';
import { createRng } from '../../src/stats/rng.ts';

const PARAMS = { epsilon: 0.1, ucbC: 1 };

function explorer(scores: number[], impressions: number[], clicks: number[], m = 20): SlateExplorer {
  const e = new SlateExplorer({ replicates: 16, delta: 0.05 }, 2);
  e.ensure(scores.length);
  impressions.forEach((v, i) => {
    e.impressions[i] = v;
  });
  clicks.forEach((v, i) => {
    e.clicks[i] = v;
  });
  e.preparePosteriors(Float32Array.from(scores), m, scores.length);
  return e;
}

describe('model-informed posteriors', () => {
  it('set α = m·p̂ + clicks and β = m·(1 − p̂) + impressions − clicks, sanitising bad counts', () => {
    const alpha = new Float64Array(4);
    const beta = new Float64Array(4);
    fillPosteriors(
      Float32Array.from([0.25, 0, 1, Number.NaN]),
      Float64Array.from([100, -5, 10, 3]),
      Float64Array.from([10, 2, 20, Number.NaN]),
      20,
      4,
      alpha,
      beta,
    );
    expect(alpha[0]).toBeCloseTo(15, 12);
    expect(beta[0]).toBeCloseTo(105, 12);
    // p̂ = 0 is clamped; clicks beyond impressions raise the impressions.
    expect(alpha[1]).toBeGreaterThan(2);
    expect(beta[1]).toBeGreaterThan(0);
    expect(alpha[2]).toBeCloseTo(40, 4);
    expect(beta[2]).toBeGreaterThan(0);
    expect(alpha[3]).toBeGreaterThan(0);
    expect(beta[3]).toBeCloseTo(20 + 3, 4);
  });
});

describe('tempered posteriors', () => {
  const tempering: Tempering = { temperature: 0.25, impressions: 500 };

  it('divide α and β by the arm temperature, which starts at τ₀ and comes back towards 1 with impressions', () => {
    expect(armTemperature(tempering, 0)).toBe(0.25);
    expect(armTemperature(tempering, 500)).toBeCloseTo(0.625, 12);
    expect(armTemperature(tempering, 1e9)).toBeGreaterThan(0.9999);
    const plain = { alpha: new Float64Array(2), beta: new Float64Array(2) };
    const tempered = { alpha: new Float64Array(2), beta: new Float64Array(2) };
    const scores = Float32Array.from([0.1, 0.1]);
    const impressions = Float64Array.from([0, 500]);
    const clicks = Float64Array.from([0, 60]);
    fillPosteriors(scores, impressions, clicks, 20, 2, plain.alpha, plain.beta);
    fillPosteriors(scores, impressions, clicks, 20, 2, tempered.alpha, tempered.beta, tempering);
    for (const [i, tau] of [0.25, 0.625].entries()) {
      expect(tempered.alpha[i]).toBeCloseTo(plain.alpha[i] / tau, 9);
      expect(tempered.beta[i]).toBeCloseTo(plain.beta[i] / tau, 9);
    }
  });

  it('keep the posterior mean and make Thompson draws explore less, with propensities of the tempered draws', () => {
    // Arm 0: well measured at 10%; arm 1: unseen, p̂ = 5%. Plain draws often put arm 1 first; tempered ones less.
    const scores = Float32Array.from([0.1, 0.05]);
    const firstShare = (t: Tempering | undefined) => {
      const e = new SlateExplorer({ replicates: 4000, delta: 0.05 }, 2);
      e.impressions[0] = 2000;
      e.clicks[0] = 200;
      fillPosteriors(scores, e.impressions, e.clicks, 20, 2, e.alpha, e.beta, t);
      const rng = createRng(9);
      let unseenFirst = 0;
      const runs = 8000;
      for (let r = 0; r < runs; r++) {
        e.rank('thompson', 2, 1, PARAMS, rng);
        if (e.order[0] === 1) unseenFirst++;
      }
      // The estimator's propensity of the unseen arm in slot 0 matches how often it was dealt there.
      e.rank('thompson', 2, 1, PARAMS, rng);
      e.order[0] = 1;
      e.computePropensities('thompson', 2, 1, PARAMS, createRng(10));
      expect(Math.abs(e.propensities[0] - unseenFirst / runs)).toBeLessThan(0.03);
      return unseenFirst / runs;
    };
    const plain = firstShare(undefined);
    const tempered = firstShare(tempering);
    expect(plain).toBeGreaterThan(0.08);
    expect(tempered).toBeLessThan(0.5 * plain);
    expect(tempered).toBeGreaterThan(0);
  });
});

describe('policies', () => {
  it('greedy puts the highest p̂ first when nothing has been observed', () => {
    const scores = [0.05, 0.2, 0.01, 0.12, 0.3, 0.07];
    const e = explorer(scores, [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]);
    const count = e.rank('greedy', 6, 3, PARAMS, createRng(1));
    expect(Array.from(e.order.subarray(0, count))).toEqual([4, 1, 3]);
  });

  it('Thompson sampling explores an arm with few impressions and drops a well-measured worse one', () => {
    // Arm 0: 100k impressions at 10%. Arm 1: unseen, p̂ = 8%. Arm 2: 100k impressions at 8%.
    const e = explorer([0.1, 0.08, 0.08], [100_000, 0, 100_000], [10_000, 0, 8_000]);
    const rng = createRng(4);
    const firsts = [0, 0, 0];
    const runs = 4000;
    for (let r = 0; r < runs; r++) {
      e.rank('thompson', 3, 1, PARAMS, rng);
      firsts[e.order[0]]++;
    }
    expect(firsts[1] / runs).toBeGreaterThan(0.15);
    expect(firsts[1] / runs).toBeLessThan(0.6);
    expect(firsts[2]).toBe(0);
    expect(firsts[0]).toBeGreaterThan(firsts[1]);
    // Greedy never explores the unseen arm.
    const greedy = e.rank('greedy', 3, 1, PARAMS, rng);
    expect(greedy).toBe(1);
    expect(e.order[0]).toBe(0);
  });

  it('UCB1 ranks equal means by fewer impressions first, and by mean alone when c = 0', () => {
    // Same posterior mean 0.1, impressions 10, 1000, 100 000.
    const e = explorer([0.1, 0.1, 0.1], [10, 1000, 100_000], [1, 100, 10_000]);
    e.rank('ucb1', 3, 3, PARAMS, createRng(1));
    expect(Array.from(e.order.subarray(0, 3))).toEqual([0, 1, 2]);
    const f = explorer([0.05, 0.2, 0.1], [1000, 10, 500], [50, 2, 50]);
    f.rank('ucb1', 3, 3, { epsilon: 0, ucbC: 0 }, createRng(1));
    expect(Array.from(f.order.subarray(0, 3))).toEqual([1, 2, 0]);
    // UCB values: mean + c·√(2 ln(N + 1) / (n + 1)).
    const total = 1510;
    const mean = (20 * 0.2 + 2) / (20 + 10);
    f.rank('ucb1', 3, 3, PARAMS, createRng(1));
    expect(f.values[1]).toBeCloseTo(mean + Math.sqrt((2 * Math.log(total + 1)) / 11), 6);
  });

  it('epsilon-greedy explores about ε of the time', () => {
    const e = explorer([0.5, 0.1, 0.1, 0.1, 0.1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]);
    const rng = createRng(2);
    let notBest = 0;
    const runs = 10_000;
    for (let r = 0; r < runs; r++) {
      e.rank('epsilon-greedy', 5, 1, { epsilon: 0.2, ucbC: 1 }, rng);
      if (e.order[0] !== 0) notBest++;
    }
    // Exploring picks a uniform slate: 4 of 5 times not the best.
    expect(notBest / runs).toBeGreaterThan(0.2 * 0.8 - 0.02);
    expect(notBest / runs).toBeLessThan(0.2 * 0.8 + 0.02);
  });

  it('random deals every candidate first about equally often', () => {
    const e = explorer([0.9, 0.1, 0.1, 0.1], [0, 0, 0, 0], [0, 0, 0, 0]);
    const rng = createRng(3);
    const firsts = [0, 0, 0, 0];
    for (let r = 0; r < 8000; r++) {
      e.rank('random', 4, 2, PARAMS, rng);
      firsts[e.order[0]]++;
    }
    for (const f of firsts) expect(Math.abs(f / 8000 - 0.25)).toBeLessThan(0.025);
  });
});
