/**
 * Two cases where floating point, not the posteriors, decides a slate: draws that round to exactly the same
 * θ (1.0 for a near-certain cold item, 0 for a near-hopeless one), and lower CDF bounds below 1e-16. The
 * logged propensities must still be the probabilities of the slates the explorer deals.
 */
import { describe, expect, it } from 'vitest';
import { SlateExplorer } from '../../src/bandit/explorer.ts';
import { hoeffdingBound, PropensityScratch } from '../../src/bandit/propensity.ts';
import { thompsonPropensities } from '../../src/bandit/thompson-propensity.ts';
import { createRng } from '../../src/stats/rng.ts';

const PARAMS = { epsilon: 0.1, ucbC: 1 };

/** An explorer over candidates with the given scores, prior strength 20 and no observed counts. */
function explorerWith(scores: number[]): SlateExplorer {
  const explorer = new SlateExplorer({ replicates: 2000, delta: 1e-3 }, 4);
  explorer.ensure(scores.length);
  explorer.impressions.fill(0);
  explorer.clicks.fill(0);
  explorer.preparePosteriors(Float32Array.from(scores), 20, scores.length);
  return explorer;
}

/** Share of `runs` Thompson slates that put each candidate in each slot. */
function dealtFrequencies(explorer: SlateExplorer, n: number, k: number, runs: number): number[][] {
  const rng = createRng(41);
  const counts = Array.from({ length: n }, () => new Array<number>(k).fill(0));
  for (let r = 0; r < runs; r++) {
    const count = explorer.rank('thompson', n, k, PARAMS, rng);
    for (let s = 0; s < count; s++) counts[explorer.order[s]][s] += 1 / runs;
  }
  return counts;
}

/** The logged propensity of candidate `item` in slot `slot`, for a slate that holds it there. */
function logged(explorer: SlateExplorer, n: number, k: number, item: number, slot: number): number {
  const shown = new Int32Array(k);
  let next = 0;
  for (let s = 0; s < k; s++) {
    if (s === slot) shown[s] = item;
    else {
      if (next === item) next++;
      shown[s] = next++;
    }
  }
  const out = new Float64Array(k);
  explorer.propensitiesOf(
    'thompson',
    n,
    shown,
    k,
    PARAMS,
    createRng(7),
    { replicates: 2000, delta: 1e-3 },
    out,
  );
  return out[slot];
}

describe('Thompson propensities where draws tie', () => {
  it('match the dealt slates when near-certain cold items draw exactly 1.0', () => {
    // p̂ = 0.9995 and 0.9999 with prior strength 20: β = 0.01 and 0.002, so most draws round to 1.0.
    const scores = [0.9995, 0.9999, 0.5, 0.3];
    const explorer = explorerWith(scores);
    const runs = 40_000;
    const freq = dealtFrequencies(explorer, 4, 2, runs);
    const tolerance = 4 * Math.sqrt(0.25 / runs) + hoeffdingBound(2000, 1e-3);
    for (const item of [0, 1])
      for (const slot of [0, 1])
        expect(Math.abs(logged(explorer, 4, 2, item, slot) - freq[item][slot])).toBeLessThan(tolerance);
  });

  it('match the dealt slates when near-hopeless items draw exactly 0', () => {
    // p̂ ≈ 1e-6: α = 2e-5, so almost every draw underflows to 0; three of them compete for the last slots.
    const scores = [0.4, 1e-6, 1e-6, 2e-6];
    const explorer = explorerWith(scores);
    const runs = 40_000;
    const freq = dealtFrequencies(explorer, 4, 3, runs);
    const tolerance = 4 * Math.sqrt(0.25 / runs) + hoeffdingBound(2000, 1e-3);
    for (const item of [1, 2, 3])
      for (const slot of [1, 2])
        expect(Math.abs(logged(explorer, 4, 3, item, slot) - freq[item][slot])).toBeLessThan(tolerance);
  });
});

describe('Thompson propensities with lower bounds below 1e-16', () => {
  it('keep the CDF of a draw that is tiny but not 0 (the lower tail check does not round 1 − x to 1)', () => {
    // α = 0.01: typical draws are around e^-100, far below 1e-16, yet the CDF there is far from 0.
    const n = 3;
    const alpha = Float64Array.from([0.01, 0.01, 0.01]);
    const beta = Float64Array.from([19.99, 19.99, 19.99]);
    const replicates = 4000;
    const delta = 1e-4;
    const out = new Float64Array(n);
    thompsonPropensities(
      alpha,
      beta,
      n,
      Int32Array.from([0, 1, 2]),
      n,
      createRng(5),
      { replicates, delta, pruneMass: 0 },
      new PropensityScratch(n),
      out,
    );
    // Three exchangeable items: each slot holds a given one with probability 1/3.
    for (let s = 0; s < n; s++)
      expect(Math.abs(out[s] - 1 / 3)).toBeLessThanOrEqual(hoeffdingBound(replicates, delta));
  });
});
