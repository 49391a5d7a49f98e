/**
 * The logged propensities measured from outside, the way off-policy estimates use them: the explorer deals
 * many Thompson slates from one fixed state, and for every (item, slot) that the dealt slates put there with
 * probability p ≥ 1 %, p·E[1/p̃] (p̃ the logged propensity of that item in that slot) must lie in
 * [0.95, 1.05]. Then the project's own `ips` estimates a greedy target from those slates and their logged
 * propensities within 3 % of the target's true value. Seeded; the state mixes mature arms (narrow posteriors)
 * with cold ones (wide posteriors), the mix that made noisy propensities' inverses explode.
 */
import { describe, expect, it } from 'vitest';
import { SlateExplorer } from '../../src/bandit/explorer.ts';
import { ips } from '../../src/stats/off-policy.ts';
import { createRng } from '../../src/stats/rng.ts';

const N = 20;
const K = 5;
const SLATES = 400_000;
const LOGGED = 40;
const PARAMS = { epsilon: 0.1, ucbC: 1 };

/** 12 mature arms with thousands of impressions, 8 cold ones the model rates from 3 % to 12 %. */
function fixedState(): SlateExplorer {
  const explorer = new SlateExplorer({ replicates: 8, delta: 0.05 }, N);
  const rng = createRng(2026);
  const scores = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    const mature = i < 12;
    scores[i] = mature ? 0.04 + 0.05 * rng.next() : 0.03 + 0.09 * rng.next();
    const impressions = mature ? Math.round(1000 + 6000 * rng.next()) : Math.round(30 * rng.next());
    explorer.impressions[i] = impressions;
    explorer.clicks[i] = Math.round(impressions * (0.03 + 0.06 * rng.next()));
  }
  explorer.preparePosteriors(scores, 20, N);
  return explorer;
}

describe('logged Thompson propensities, measured from the slates dealt', () => {
  it('have nearly unbiased inverses and give IPS the right value of a greedy target', () => {
    const explorer = fixedState();
    // The truth: each arm's click probability is its posterior mean, discounted by slot; a record's reward is
    // its expected click, which leaves the slates and their propensities as the only noise.
    const ctr = Float64Array.from(
      { length: N },
      (_, i) => explorer.alpha[i] / (explorer.alpha[i] + explorer.beta[i]),
    );
    const position = Float64Array.from({ length: K }, (_, s) => 1 / Math.sqrt(1 + s));
    const greedy = Array.from({ length: N }, (_, i) => i)
      .sort((a, b) => ctr[b] - ctr[a])
      .slice(0, K);
    let truth = 0;
    for (let s = 0; s < K; s++) truth += (ctr[greedy[s]] * position[s]) / K;

    // Every slate counts towards the frequencies p; every LOGGED-th slate also has its propensities computed,
    // as the gateway logs them, for E[1/p̃] and for the IPS records.
    const dealt = new Float64Array(N * K);
    const inverseSum = new Float64Array(N * K);
    const inverseCount = new Float64Array(N * K);
    const records = (SLATES / LOGGED) * K;
    const reward = new Float64Array(records);
    const propensity = new Float64Array(records);
    const target = new Float64Array(records);
    const dealRng = createRng(11);
    const propensityRng = createRng(13);
    let row = 0;
    for (let r = 0; r < SLATES; r++) {
      const count = explorer.rank('thompson', N, K, PARAMS, dealRng);
      for (let s = 0; s < count; s++) dealt[explorer.order[s] * K + s]++;
      if (r % LOGGED !== 0) continue;
      explorer.computePropensities('thompson', N, count, PARAMS, propensityRng);
      for (let s = 0; s < count; s++) {
        const item = explorer.order[s];
        const p = explorer.propensities[s];
        inverseSum[item * K + s] += 1 / p;
        inverseCount[item * K + s]++;
        reward[row] = ctr[item] * position[s];
        propensity[row] = p;
        target[row] = greedy[s] === item ? 1 : 0;
        row++;
      }
    }

    let checked = 0;
    for (let cell = 0; cell < N * K; cell++) {
      const p = dealt[cell] / SLATES;
      if (p < 0.01) continue;
      checked++;
      // p · E[1/p̃]: the dealt frequency times the mean inverse of the logged propensity when dealt.
      const ratio = p * (inverseSum[cell] / inverseCount[cell]);
      expect(ratio, `item ${Math.floor(cell / K)}, slot ${cell % K}, p = ${p}`).toBeGreaterThanOrEqual(0.95);
      expect(ratio, `item ${Math.floor(cell / K)}, slot ${cell % K}, p = ${p}`).toBeLessThanOrEqual(1.05);
    }
    expect(checked).toBeGreaterThanOrEqual(15);

    const estimate = ips({ reward, propensity, targetProbability: target });
    expect(Math.abs(estimate.estimate - truth) / truth, JSON.stringify({ ...estimate, truth })).toBeLessThan(
      0.03,
    );
  });
});
