import { describe, expect, it } from 'vitest';
import { betaCdf } from '../../src/bandit/beta-cdf.ts';
import { SlateExplorer } from '../../src/bandit/explorer.ts';
import {
  hoeffdingBound,
  PropensityScratch,
  rankedPropensities,
  thompsonPropensitiesByCounting,
} from '../../src/bandit/propensity.ts';
import { selectTopK } from '../../src/bandit/slate.ts';
import { chernoffTail, thompsonPropensities } from '../../src/bandit/thompson-propensity.ts';
import type { PolicyName } from '../../src/domain/policy-names.ts';
import { createRng } from '../../src/stats/rng.ts';
import { betaInc, logBeta } from '../../src/stats/special.ts';

const PARAMS = { epsilon: 0.2, ucbC: 1 };

/** An explorer over n candidates with the given scores and no observed counts. */
function explorerWith(scores: number[], replicates = 64): SlateExplorer {
  const explorer = new SlateExplorer({ replicates, delta: 0.05 }, 4);
  explorer.ensure(scores.length);
  explorer.impressions.fill(0);
  explorer.clicks.fill(0);
  explorer.preparePosteriors(Float32Array.from(scores), 20, scores.length);
  return explorer;
}

/** How often each candidate lands in each slot over `runs` rankings. */
function slotFrequencies(
  explorer: SlateExplorer,
  policy: PolicyName,
  n: number,
  k: number,
  runs: number,
): number[][] {
  const rng = createRng(99);
  const counts = Array.from({ length: n }, () => new Array<number>(k).fill(0));
  for (let r = 0; r < runs; r++) {
    const count = explorer.rank(policy, n, k, PARAMS, rng);
    for (let s = 0; s < count; s++) counts[explorer.order[s]][s]++;
  }
  return counts.map((row) => row.map((c) => c / runs));
}

describe('top-k selection', () => {
  it('returns the same order as a full sort, ties by key then index', () => {
    const rng = createRng(5);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(rng.next() * 60);
      const k = 1 + Math.floor(rng.next() * 12);
      const values = Float64Array.from({ length: n }, () => Math.floor(rng.next() * 8) / 8);
      const keys = Float64Array.from({ length: n }, () => rng.next());
      const out = new Int32Array(k);
      const count = selectTopK(values, keys, n, k, out);
      const sorted = Array.from({ length: n }, (_, i) => i).sort(
        (a, b) => values[b] - values[a] || keys[b] - keys[a] || a - b,
      );
      expect(Array.from(out.subarray(0, count))).toEqual(sorted.slice(0, Math.min(k, n)));
    }
  });
});

describe('exact propensities', () => {
  it('greedy: 1 for a value nobody shares, 1/g within a tie block of g', () => {
    const values = Float64Array.from([0.5, 0.9, 0.9, 0.1, 0.9, 0.95]);
    const shown = Int32Array.from([5, 2, 4, 1]);
    const out = new Float64Array(4);
    rankedPropensities(values, 6, shown, 4, new PropensityScratch(8), out);
    expect(Array.from(out)).toEqual([1, 1 / 3, 1 / 3, 1 / 3]);
    // An item outside its tie block's slots has propensity 0.
    rankedPropensities(values, 6, Int32Array.from([0]), 1, new PropensityScratch(8), out);
    expect(out[0]).toBe(0);
  });

  it('greedy with random tie-breaks lands tied items in their block uniformly, as the formula says', () => {
    const explorer = explorerWith([0.1, 0.3, 0.3, 0.3, 0.05]);
    const freq = slotFrequencies(explorer, 'greedy', 5, 3, 6000);
    for (const item of [1, 2, 3])
      for (let s = 0; s < 3; s++) expect(Math.abs(freq[item][s] - 1 / 3)).toBeLessThan(0.03);
    explorer.rank('greedy', 5, 3, PARAMS, createRng(1));
    explorer.computePropensities('greedy', 5, 3, PARAMS, createRng(2));
    expect(Array.from(explorer.propensities.subarray(0, 3))).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('random: every shown item has propensity 1/n, matching the observed frequencies', () => {
    const n = 6;
    const explorer = explorerWith([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    const count = explorer.rank('random', n, 3, PARAMS, createRng(3));
    const method = explorer.computePropensities('random', n, count, PARAMS, createRng(4));
    expect(method.method).toBe('exact');
    expect(Array.from(explorer.propensities.subarray(0, 3))).toEqual([1 / n, 1 / n, 1 / n]);
    const freq = slotFrequencies(explorer, 'random', n, 3, 12000);
    for (const row of freq) for (const f of row) expect(Math.abs(f - 1 / n)).toBeLessThan(0.02);
  });

  it('epsilon-greedy: (1 − ε)·greedy + ε/n, matching the observed frequencies', () => {
    const n = 5;
    const scores = [0.02, 0.5, 0.3, 0.2, 0.1];
    const explorer = explorerWith(scores);
    const freq = slotFrequencies(explorer, 'epsilon-greedy', n, 2, 20000);
    // Greedy slate: item 1 then item 2.
    const expected = (item: number, slot: number): number =>
      (1 - PARAMS.epsilon) * ((slot === 0 && item === 1) || (slot === 1 && item === 2) ? 1 : 0) +
      PARAMS.epsilon / n;
    for (let item = 0; item < n; item++) {
      for (let s = 0; s < 2; s++) expect(Math.abs(freq[item][s] - expected(item, s))).toBeLessThan(0.015);
    }
    const rng = createRng(8);
    for (let trial = 0; trial < 20; trial++) {
      const count = explorer.rank('epsilon-greedy', n, 2, PARAMS, rng);
      explorer.computePropensities('epsilon-greedy', n, count, PARAMS, rng);
      for (let s = 0; s < count; s++)
        expect(explorer.propensities[s]).toBeCloseTo(expected(explorer.order[s], s), 12);
    }
  });

  it('ucb1: deterministic, so every shown item has propensity 1', () => {
    const explorer = explorerWith([0.1, 0.2, 0.3]);
    const count = explorer.rank('ucb1', 3, 2, PARAMS, createRng(1));
    explorer.computePropensities('ucb1', 3, count, PARAMS, createRng(1));
    expect(Array.from(explorer.propensities.subarray(0, 2))).toEqual([1, 1]);
  });
});

describe('Thompson propensities by Monte Carlo', () => {
  it('use a Beta CDF that agrees with the statistics library to 1e-9', () => {
    const rng = createRng(12);
    for (let i = 0; i < 500; i++) {
      const a = 0.5 + rng.next() * 400;
      const b = 0.5 + rng.next() * 4000;
      const x = rng.next();
      expect(Math.abs(betaCdf(a, b, logBeta(a, b), x) - betaInc(a, b, x))).toBeLessThan(1e-9);
    }
    expect(betaCdf(2, 3, logBeta(2, 3), 0)).toBe(0);
    expect(betaCdf(2, 3, logBeta(2, 3), 1)).toBe(1);
  });

  it('stay within the documented Hoeffding bound of a high-precision estimate', () => {
    const n = 8;
    const k = 4;
    const alpha = Float64Array.from([2, 3, 1.5, 8, 1.2, 4, 2.5, 30]);
    const beta = Float64Array.from([30, 40, 20, 120, 25, 60, 35, 500]);
    const shown = Int32Array.from([3, 1, 0, 6]);
    const replicates = 200;
    const delta = 1e-3;
    const estimate = new Float64Array(k);
    thompsonPropensities(
      alpha,
      beta,
      n,
      shown,
      k,
      createRng(17),
      { replicates, delta },
      new PropensityScratch(n),
      estimate,
    );
    const reference = new Float64Array(k);
    const precise = 200_000;
    thompsonPropensitiesByCounting(
      alpha,
      beta,
      n,
      shown,
      k,
      createRng(23),
      precise,
      new PropensityScratch(n),
      reference,
    );
    const bound = hoeffdingBound(replicates, delta) + hoeffdingBound(precise, delta);
    for (let s = 0; s < k; s++) {
      expect(reference[s]).toBeGreaterThan(0.01);
      expect(Math.abs(estimate[s] - reference[s])).toBeLessThanOrEqual(bound);
    }
  });

  it('bound the tail of a left-out candidate from above (Chernoff), never below the exact tail', () => {
    const rng = createRng(9);
    let violations = 0;
    for (let i = 0; i < 3000; i++) {
      const a = 0.3 + rng.next() * 500;
      const b = 0.3 + rng.next() * 5000;
      const mean = a / (a + b);
      const x = mean + (1 - mean) * rng.next() * 0.5;
      if (1 - betaInc(a, b, x) > chernoffTail(a, b, mean, x) * (1 + 1e-9) + 1e-15) violations++;
    }
    expect(violations).toBe(0);
    // Tight enough to matter: a mature arm at 5% is practically never above 9%.
    expect(chernoffTail(50, 950, 0.05, 0.09)).toBeLessThan(1e-4);
  });

  it('leave out candidates that practically never reach the slate, within the bias budget', () => {
    // 6 contenders and 60 mature, clearly worse arms.
    const n = 66;
    const k = 3;
    const alpha = new Float64Array(n);
    const beta = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const contender = j < 6;
      const imp = contender ? 200 + 100 * j : 20_000;
      const ctr = contender ? 0.1 - 0.005 * j : 0.03;
      alpha[j] = 1 + imp * ctr;
      beta[j] = 19 + imp * (1 - ctr);
    }
    const shown = Int32Array.from([0, 2, 1]);
    const replicates = 400;
    const delta = 1e-3;
    const estimate = new Float64Array(k);
    const result = thompsonPropensities(
      alpha,
      beta,
      n,
      shown,
      k,
      createRng(3),
      { replicates, delta },
      new PropensityScratch(n),
      estimate,
    );
    expect(result.pruned).toBeGreaterThanOrEqual(55);
    expect(result.prunedMass).toBeLessThanOrEqual(1e-4);
    const reference = new Float64Array(k);
    const precise = 100_000;
    thompsonPropensitiesByCounting(
      alpha,
      beta,
      n,
      shown,
      k,
      createRng(5),
      precise,
      new PropensityScratch(n),
      reference,
    );
    const bound = hoeffdingBound(replicates, delta) + result.prunedMass + hoeffdingBound(precise, delta);
    for (let s = 0; s < k; s++) expect(Math.abs(estimate[s] - reference[s])).toBeLessThanOrEqual(bound);
  });

  it('never report 0 for a shown item: estimates below the floor are floored', () => {
    // Item 1 is practically never first; it is "shown" first anyway.
    const alpha = Float64Array.from([900, 1]);
    const beta = Float64Array.from([100, 999]);
    const out = new Float64Array(1);
    thompsonPropensities(
      alpha,
      beta,
      2,
      Int32Array.from([1]),
      1,
      createRng(1),
      { replicates: 32, delta: 0.05 },
      new PropensityScratch(2),
      out,
    );
    expect(out[0]).toBe(1e-4);
    thompsonPropensities(
      alpha,
      beta,
      2,
      Int32Array.from([1]),
      1,
      createRng(1),
      { replicates: 32, delta: 0.05, floor: 1e-3 },
      new PropensityScratch(2),
      out,
    );
    expect(out[0]).toBe(1e-3);
  });

  it('are reproducible from the seed', () => {
    const explorer = explorerWith([0.1, 0.12, 0.08, 0.2, 0.05, 0.15]);
    const count = explorer.rank('thompson', 6, 3, PARAMS, createRng(1));
    explorer.computePropensities('thompson', 6, count, PARAMS, createRng(77));
    const first = Array.from(explorer.propensities.subarray(0, count));
    explorer.computePropensities('thompson', 6, count, PARAMS, createRng(77));
    expect(Array.from(explorer.propensities.subarray(0, count))).toEqual(first);
    for (const p of first) expect(p).toBeGreaterThan(0);
  });
});
