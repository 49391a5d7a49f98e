import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CORRECTION,
  fillCorrectedPosteriors,
  WELL_KNOWN_CLICKS,
} from '../../src/bandit/correction.ts';
import { SlateExplorer } from '../../src/bandit/explorer.ts';
import { hoeffdingBound, PropensityScratch } from '../../src/bandit/propensity.ts';
import { GammaRanking, gammaChernoffTail } from '../../src/bandit/ranking-posterior.ts';
import { selectTopK } from '../../src/bandit/slate.ts';
import { correctedThompsonPropensities } from '../../src/bandit/thompson-propensity.ts';
import { createRng } from '../../src/stats/rng.ts';
import { gammaQ } from '../../src/stats/special.ts';

/** Shape and rate of the corrected scores of n arms. */
function corrected(
  scores: number[],
  clicks: number[],
  expected: number[],
  settings = DEFAULT_CORRECTION,
  impressions: number[] = scores.map(() => 0),
): { shape: Float64Array; rate: Float64Array; mean: number[] } {
  const n = scores.length;
  const shape = new Float64Array(n);
  const rate = new Float64Array(n);
  fillCorrectedPosteriors(
    Float32Array.from(scores),
    Float64Array.from(impressions),
    Float64Array.from(clicks),
    Float64Array.from(expected),
    settings,
    n,
    shape,
    rate,
  );
  return { shape, rate, mean: Array.from(shape, (a, i) => a / rate[i]) };
}

describe('corrected scores (Gamma–Poisson correction of the model)', () => {
  it('start at the model: an arm without impressions is ranked by p̂', () => {
    const { mean } = corrected([0.1, 0.3, 0.2], [0, 0, 0], [0, 0, 0]);
    expect(mean[0]).toBeCloseTo(0.1, 6);
    expect(mean[1]).toBeCloseTo(0.3, 6);
    expect(mean[2]).toBeCloseTo(0.2, 6);
  });

  it('learn how wrong the model is about an arm, and keep what it knows of the user', () => {
    // Arm 0: 200 clicks where the model expected 100; arm 1: 50 where it expected 100.
    const forOneUser = corrected([0.2, 0.2], [200, 50], [100, 100]);
    const forAnother = corrected([0.05, 0.2], [200, 50], [100, 100]);
    const ratio = forOneUser.mean[0] / forOneUser.mean[1];
    expect(ratio).toBeGreaterThan(3);
    expect(ratio).toBeLessThan(4);
    // A user the model thinks cares little for arm 0 still gets a quarter of its corrected score.
    expect(forAnother.mean[0] / forOneUser.mean[0]).toBeCloseTo(0.25, 6);
  });

  it('centre new arms on how the model runs in the segment as a whole (calibration)', () => {
    // Well-known arms click twice what the model expects; a new arm starts near twice its p̂ too.
    const { mean } = corrected([0.1, 0.1, 0.1], [2000, 2000, 0], [1000, 1000, 0]);
    expect(mean[2] / 0.1).toBeGreaterThan(1.95);
    expect(mean[2] / 0.1).toBeLessThan(2);
  });

  it('narrow the draws of well-known arms by the exploration scale, not of arms with little evidence', () => {
    const settings = { strength: 16, explorationScale: 0.4 };
    const plain = { strength: 16, explorationScale: 1 };
    const cv = (c: ReturnType<typeof corrected>, i: number) => 1 / Math.sqrt(c.shape[i]);
    const known = [10_000 * WELL_KNOWN_CLICKS];
    const sharp = corrected([0.2], known, known, settings);
    const wide = corrected([0.2], known, known, plain);
    expect(cv(sharp, 0) / cv(wide, 0)).toBeCloseTo(0.4, 3);
    expect(sharp.mean[0]).toBeCloseTo(wide.mean[0], 9);
    const fresh = corrected([0.2], [0], [0], settings);
    expect(cv(fresh, 0)).toBeCloseTo(1 / Math.sqrt(16), 9);
  });

  it('stand in the p̂ of this request over the impressions where the state keeps no expected clicks', () => {
    const known = corrected([0.2, 0.2], [30, 10], [20, 20]);
    const standIn = corrected([0.2, 0.2], [30, 10], [Number.NaN, Number.NaN], DEFAULT_CORRECTION, [100, 100]);
    // p̂ is a float32 score: 0.2 · 100 is 20 to within 1e-6.
    expect(standIn.mean[0]).toBeCloseTo(known.mean[0], 6);
    expect(standIn.mean[1]).toBeCloseTo(known.mean[1], 6);
  });

  it('never let a bad count make a posterior improper', () => {
    const { shape, rate } = corrected(
      [Number.NaN, -1, 2, 0.5],
      [Number.NaN, -3, Number.POSITIVE_INFINITY, 5],
      [Number.NEGATIVE_INFINITY, -2, 7, Number.POSITIVE_INFINITY],
    );
    for (let i = 0; i < 4; i++) {
      expect(shape[i]).toBeGreaterThan(0);
      expect(rate[i]).toBeGreaterThan(0);
      expect(Number.isFinite(shape[i] / rate[i])).toBe(true);
    }
  });
});

describe('corrected-thompson propensities', () => {
  const shape = Float64Array.from([20, 35, 12, 80, 6, 40, 25, 300]);
  const rate = Float64Array.from([100, 150, 90, 420, 50, 260, 160, 2400]);

  /** Plain Monte Carlo: the share of rankings that put each shown item in its slot. */
  function byCounting(shown: Int32Array, k: number, runs: number): number[] {
    const n = shape.length;
    const ranking = new GammaRanking().use(shape, rate);
    const rng = createRng(23);
    const draws = new Float64Array(n);
    const order = new Int32Array(k);
    const hits = new Array<number>(k).fill(0);
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < n; i++) draws[i] = ranking.draw(rng, i);
      selectTopK(draws, null, n, k, order);
      for (let s = 0; s < k; s++) if (order[s] === shown[s]) hits[s]++;
    }
    return hits.map((h) => h / runs);
  }

  it('stay within the documented Hoeffding bound of plain counting', () => {
    const k = 4;
    const shown = Int32Array.from([0, 3, 1, 6]);
    const replicates = 200;
    const delta = 1e-3;
    const estimate = new Float64Array(k);
    correctedThompsonPropensities(
      shape,
      rate,
      shape.length,
      shown,
      k,
      createRng(17),
      { replicates, delta },
      new PropensityScratch(shape.length),
      estimate,
    );
    const precise = 100_000;
    const reference = byCounting(shown, k, precise);
    const bound = hoeffdingBound(replicates, delta) + hoeffdingBound(precise, delta);
    for (let s = 0; s < k; s++) {
      expect(reference[s]).toBeGreaterThan(0.01);
      expect(Math.abs(estimate[s] - reference[s])).toBeLessThanOrEqual(bound);
    }
  });

  it('bound both tails of a Gamma from above (Chernoff), never below the exact tail', () => {
    const rng = createRng(9);
    let violations = 0;
    for (let i = 0; i < 3000; i++) {
      const a = 0.5 + rng.next() * 2000;
      const b = 0.1 + rng.next() * 5000;
      const mean = a / b;
      const above = mean * (1 + rng.next());
      const below = mean * rng.next();
      if (gammaQ(a, b * above) > gammaChernoffTail(a, b, above) * (1 + 1e-9) + 1e-15) violations++;
      if (1 - gammaQ(a, b * below) > gammaChernoffTail(a, b, below) * (1 + 1e-9) + 1e-15) violations++;
    }
    expect(violations).toBe(0);
  });

  it('are what the explorer logs for a corrected-thompson slate, reproducibly and above 0', () => {
    const explorer = new SlateExplorer({ replicates: 16, delta: 0.05 });
    const n = 6;
    explorer.ensure(n);
    for (let i = 0; i < n; i++) {
      explorer.impressions[i] = 100 * i;
      explorer.clicks[i] = 3 * i;
      explorer.expected[i] = 2 * i;
    }
    const scores = Float32Array.from([0.1, 0.12, 0.08, 0.2, 0.05, 0.15]);
    explorer.preparePosteriors(scores, 20, n, DEFAULT_CORRECTION);
    const params = { epsilon: 0.1, ucbC: 1 };
    const count = explorer.rank('corrected-thompson', n, 3, params, createRng(1));
    const method = explorer.computePropensities('corrected-thompson', n, count, params, createRng(77));
    expect(method.method).toBe('monte-carlo');
    const first = Array.from(explorer.propensities.subarray(0, count));
    explorer.computePropensities('corrected-thompson', n, count, params, createRng(77));
    expect(Array.from(explorer.propensities.subarray(0, count))).toEqual(first);
    for (const p of first) expect(p).toBeGreaterThan(0);
  });
});
