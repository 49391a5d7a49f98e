/**
 * The exploration policies: each fills one ranking value per candidate (the slate is the top k by that
 * value), from the Beta posteriors α, β (see posterior.ts).
 *
 * - `thompson`: θ ~ Beta(α, β), drawn with the fast sampler of `src/stats`; draws that round to the same double
 *   (1.0 for a near-certain cold item, 0 for a near-hopeless one) are ordered uniformly at random, which is what
 *   the propensity estimators assume.
 * - `greedy`: the posterior mean α / (α + β); ties broken uniformly at random.
 * - `ucb1`: posterior mean + c·√(2·ln(N + 1) / (nᵢ + 1)), N the impressions of all candidates, nᵢ the arm's;
 *   ties broken uniformly at random.
 * - `epsilon-greedy`: with probability ε a uniformly random slate, otherwise greedy.
 * - `random`: a uniformly random slate (i.i.d. uniform values).
 */
import type { PolicyName } from '../domain/policy-names.ts';
import { sampleBeta } from '../stats/beta-sampler.ts';
import type { Rng } from '../stats/rng.ts';

export const POLICY_NAMES: readonly PolicyName[] = ['thompson', 'greedy', 'ucb1', 'epsilon-greedy', 'random'];

export interface PolicyParams {
  /** Exploration probability of `epsilon-greedy`, in [0, 1]. */
  readonly epsilon: number;
  /** Exploration weight c of `ucb1`, ≥ 0. */
  readonly ucbC: number;
}

/** The arrays a policy reads (length ≥ n). */
export interface ArmTable {
  readonly alpha: Float64Array;
  readonly beta: Float64Array;
  readonly impressions: Float64Array;
}

/** Posterior means α / (α + β). */
export function fillPosteriorMeans(arms: ArmTable, n: number, out: Float64Array): void {
  const alpha = arms.alpha;
  const beta = arms.beta;
  for (let i = 0; i < n; i++) out[i] = alpha[i] / (alpha[i] + beta[i]);
}

/** Thompson draws θᵢ ~ Beta(αᵢ, βᵢ). */
export function fillThompsonSamples(
  rng: Rng,
  alpha: Float64Array,
  beta: Float64Array,
  n: number,
  out: Float64Array,
): void {
  for (let i = 0; i < n; i++) out[i] = sampleBeta(rng, alpha[i], beta[i]);
}

export function fillUcb1(arms: ArmTable, n: number, c: number, out: Float64Array): void {
  let total = 0;
  const impressions = arms.impressions;
  for (let i = 0; i < n; i++) total += impressions[i];
  const logTotal = 2 * Math.log(total + 1);
  const alpha = arms.alpha;
  const beta = arms.beta;
  for (let i = 0; i < n; i++) {
    out[i] = alpha[i] / (alpha[i] + beta[i]) + c * Math.sqrt(logTotal / (impressions[i] + 1));
  }
}

function fillUniform(rng: Rng, n: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) out[i] = rng.next();
}

/**
 * Fills `values[0..n-1]` (the ranking values) and, for the policies that break ties at random, `keys` (random
 * tie-break keys). Returns whether the ranking is uniform random (`random`, or `epsilon-greedy` exploring) and
 * whether keys were written.
 */
export function fillRankValues(
  policy: PolicyName,
  arms: ArmTable,
  n: number,
  params: PolicyParams,
  rng: Rng,
  values: Float64Array,
  keys: Float64Array,
): { uniform: boolean; keyed: boolean } {
  switch (policy) {
    case 'thompson':
      fillThompsonSamples(rng, arms.alpha, arms.beta, n, values);
      fillUniform(rng, n, keys);
      return { uniform: false, keyed: true };
    case 'greedy':
      fillPosteriorMeans(arms, n, values);
      fillUniform(rng, n, keys);
      return { uniform: false, keyed: true };
    case 'ucb1':
      fillUcb1(arms, n, params.ucbC, values);
      fillUniform(rng, n, keys);
      return { uniform: false, keyed: true };
    case 'epsilon-greedy':
      if (rng.next() < params.epsilon) {
        fillUniform(rng, n, values);
        return { uniform: true, keyed: false };
      }
      fillPosteriorMeans(arms, n, values);
      fillUniform(rng, n, keys);
      return { uniform: false, keyed: true };
    default:
      fillUniform(rng, n, values);
      return { uniform: true, keyed: false };
  }
}
