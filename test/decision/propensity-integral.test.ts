/**
 * The integrated Thompson propensities at the gateway's resolution against the same integrals on a grid twelve
 * times finer (24 nodes per standard deviation, Richardson-extrapolated too): seeded states of 200 candidates
 * that mix mature arms (narrow posteriors) with cold ones (wide), and crowded states (a young catalog the model
 * scores alike, shown often and never clicked, as under a load test), the slate a Thompson draw of 10.
 */
import { describe, expect, it } from 'vitest';
import { SlateExplorer } from '../../src/bandit/explorer.ts';
import { INTEGRAL_QUADRATURE_ERROR } from '../../src/bandit/propensity.ts';
import { IntegralScratch, thompsonPropensitiesByIntegration } from '../../src/bandit/thompson-integral.ts';
import { createRng } from '../../src/stats/rng.ts';

const N = 200;
const K = 10;
const STATES = 24;
const FINE = { nodesPerSd: 24, maxCells: 2000 };

/** Mostly mature, mostly cold, or a 70/30 mix, in turn. */
function state(t: number, rng: ReturnType<typeof createRng>): SlateExplorer {
  const explorer = new SlateExplorer({ replicates: 8, delta: 0.05 }, N);
  const scores = new Float32Array(N);
  const coldShare = [0.3, 0, 0.8][t % 3];
  for (let i = 0; i < N; i++) {
    scores[i] = 0.01 + 0.2 * rng.next() ** 2;
    const impressions =
      rng.next() < coldShare ? Math.round(50 * rng.next()) : Math.round(100 * 300 ** rng.next());
    explorer.impressions[i] = impressions;
    explorer.clicks[i] = Math.round(impressions * scores[i] * (0.6 + 0.8 * rng.next()));
  }
  explorer.preparePosteriors(scores, 20, N);
  return explorer;
}

/**
 * A young catalog the model scores alike, shown often and never clicked, as under a load test: 190 near-equal
 * arms (p̂ 0.125–0.15, 40–55 examinations: α ≈ 2.7, β ≈ 64) and 10 mature ones. The crowd's order statistics
 * change faster than any one posterior.
 */
function crowdedState(rng: ReturnType<typeof createRng>): SlateExplorer {
  const explorer = new SlateExplorer({ replicates: 8, delta: 0.05 }, N);
  const scores = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    const crowd = i < 190;
    scores[i] = crowd ? 0.125 + 0.025 * rng.next() : 0.05 + 0.15 * rng.next();
    const seen = crowd ? 40 + 15 * rng.next() : 50 + 100 * rng.next();
    explorer.impressions[i] = Math.round(seen);
    explorer.clicks[i] = crowd ? 0 : Math.round(seen * scores[i] * rng.next());
  }
  explorer.preparePosteriors(scores, 20, N);
  return explorer;
}

describe('integrated Thompson propensities', () => {
  it('agree with a twelve-times-finer grid within the documented quadrature error', () => {
    checkAgainstFinerGrid(state, STATES * 3);
  });

  it('agree with it on a crowd of near-equal young arms too', () => {
    // Fewer slots hold p ≥ 1 % there: the crowd shares the slots.
    checkAgainstFinerGrid((_, rng) => crowdedState(rng), STATES * 2);
  });
});

function checkAgainstFinerGrid(
  stateOf: (t: number, rng: ReturnType<typeof createRng>) => SlateExplorer,
  minChecked: number,
): void {
  const rng = createRng(2027);
  const scratch = new IntegralScratch();
  const out = new Float64Array(K);
  const fine = new Float64Array(K);
  let worstAbs = 0;
  let worstRelative = 0;
  let checked = 0;
  for (let t = 0; t < STATES; t++) {
    const explorer = stateOf(t, rng);
    explorer.rank('thompson', N, K, { epsilon: 0.1, ucbC: 1 }, rng);
    const shown = explorer.order.slice(0, K);
    thompsonPropensitiesByIntegration(explorer.alpha, explorer.beta, N, shown, K, scratch, fine, 1e-12, FINE);
    thompsonPropensitiesByIntegration(explorer.alpha, explorer.beta, N, shown, K, scratch, out, 1e-12);
    for (let s = 0; s < K; s++) {
      const error = Math.abs(out[s] - fine[s]);
      worstAbs = Math.max(worstAbs, error);
      if (fine[s] >= 0.01) {
        worstRelative = Math.max(worstRelative, error / fine[s]);
        checked++;
      }
    }
  }
  expect(checked).toBeGreaterThan(minChecked);
  expect(worstAbs).toBeLessThanOrEqual(INTEGRAL_QUADRATURE_ERROR / 2);
  // 1/p̃ within 2 % of 1/p wherever p ≥ 1 %: the inverse-propensity weights off-policy estimates use.
  expect(worstRelative).toBeLessThan(0.02);
}
