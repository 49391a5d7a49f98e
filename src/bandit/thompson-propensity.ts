/**
 * Propensities of Thompson sampling by conditional (Rao–Blackwellized) Monte Carlo, for any posterior family
 * the slate ranks by (ranking-posterior.ts): Beta click probabilities (`thompson`) or Gamma corrected scores
 * (`corrected-thompson`).
 *
 * Each of R replicates draws a value for every candidate; for the item i shown in slot s it adds the exact
 * probability, given the other candidates' draws, that i's value falls between the s-th and (s+1)-th largest
 * of them: Fᵢ(t_s) − Fᵢ(t_{s+1}), Fᵢ the distribution function of i's posterior, t_0 = +∞. Each term lies in
 * [0, 1] and has mean P(i at s); its variance never exceeds that of counting how often i lands in s (usually
 * far below).
 *
 * Pruning: only the top k + 1 draws matter. With D the (k+1)-th largest of μⱼ − 3σⱼ, a candidate whose tail
 * P(valueⱼ > D) is tiny (by a Chernoff bound) is left out of the replicates while the total left-out tail
 * bound ε stays within `pruneMass`. A replicate whose (k+1)-th largest kept draw falls below D draws the
 * left-out candidates too, so a term can differ from the full computation only when some left-out value
 * exceeds D: the bias is at most ε, which the reported error bound includes. A distribution-function value the
 * same bounds put within 1e-12 of 0 or 1 is not computed.
 */
import type { Rng } from '../stats/rng.ts';
import type { MonteCarloSettings, PropensityScratch } from './propensity.ts';
import { BetaRanking, GammaRanking, type RankingPosterior } from './ranking-posterior.ts';
import { selectTopK } from './slate.ts';

export { chernoffTail } from './ranking-posterior.ts';

export interface ThompsonEstimate {
  /** The largest empirical standard error over the slots. */
  readonly standardError: number;
  /** Total tail mass ε of the left-out candidates (a bound on the bias). */
  readonly prunedMass: number;
  /** How many candidates were left out. */
  readonly pruned: number;
}

const DEFAULT_PRUNE_MASS = 1e-4;
const DEFAULT_FLOOR = 1e-4;
/** A CDF value within this of 0 or 1 (by the Chernoff bound) is taken as 0 or 1. */
const NEGLIGIBLE = 1e-12;

/**
 * Orders candidates into `scratch.perm`, kept ones first, and returns how many are kept; the left-out tail
 * mass is written to `scratch.mass[0]`. Candidates with μ < D get the Chernoff bound of P(value > D); those
 * below an equal share of the budget go first, then others while the budget lasts.
 */
function partition(
  posterior: RankingPosterior,
  n: number,
  k: number,
  budget: number,
  scratch: PropensityScratch,
  threshold: number,
): number {
  const { perm, slotOf, tails } = scratch;
  let screened = 0;
  for (let j = 0; j < n; j++) {
    tails[j] = -1;
    if (threshold <= 0 || slotOf[j] >= 0) continue;
    if (posterior.mean(j) >= threshold) continue;
    tails[j] = posterior.upperTail(j, threshold);
    screened++;
  }
  let mass = 0;
  const share = screened > 0 ? budget / screened : 0;
  for (let j = 0; j < n; j++) {
    if (tails[j] >= 0 && tails[j] <= share) mass += tails[j];
  }
  let kept = 0;
  let tail = n;
  for (let j = 0; j < n; j++) {
    const p = tails[j];
    let prune = p >= 0 && p <= share;
    if (!prune && p > share && mass + p <= budget) {
      mass += p;
      prune = true;
    }
    if (prune) perm[--tail] = j;
    else perm[kept++] = j;
  }
  scratch.mass[0] = mass;
  return kept < k + 1 ? n : kept;
}

/**
 * D: the (k+1)-th largest of μⱼ − 3σⱼ, or 0 when there are too few candidates. Ranking values are never
 * negative, so D ≤ 0 prunes nothing.
 */
function pruneThreshold(
  posterior: RankingPosterior,
  n: number,
  k: number,
  scratch: PropensityScratch,
): number {
  if (n <= k + 1) return 0;
  const low = scratch.draws;
  for (let j = 0; j < n; j++) low[j] = posterior.mean(j) - 3 * posterior.sd(j);
  selectTopK(low, null, n, k + 1, scratch.order);
  return low[scratch.order[k]];
}

/**
 * Estimates P(shown[s] at slot s) for s < k into `out` (floored) when the slate is the top k of one draw
 * from each candidate's `posterior`; see the file comment.
 */
export function rankingPropensities(
  posterior: RankingPosterior,
  n: number,
  shown: Int32Array,
  k: number,
  rng: Rng,
  settings: MonteCarloSettings,
  scratch: PropensityScratch,
  out: Float64Array,
): ThompsonEstimate {
  scratch.ensure(n + 1);
  const { sums, squares, slotOf, position, perm } = scratch;
  const replicates = settings.replicates;
  const depth = Math.min(k + 1, n);
  for (let s = 0; s < k; s++) {
    sums[s] = 0;
    squares[s] = 0;
    posterior.prepare(shown[s]);
    slotOf[shown[s]] = s;
  }
  const budget = settings.pruneMass ?? DEFAULT_PRUNE_MASS;
  const threshold = budget > 0 ? pruneThreshold(posterior, n, k, scratch) : 0;
  const kept = partition(posterior, n, k, budget, scratch, threshold);
  const prunedMass = kept === n ? 0 : scratch.mass[0];
  for (let m = 0; m < n; m++) {
    const slot = slotOf[perm[m]];
    if (slot >= 0) position[slot] = m;
  }
  for (let s = 0; s < k; s++) slotOf[shown[s]] = -1;

  const draws = scratch.draws;
  const order = scratch.order;
  for (let r = 0; r < replicates; r++) {
    for (let m = 0; m < kept; m++) draws[m] = posterior.draw(rng, perm[m]);
    let count = kept;
    selectTopK(draws, null, count, depth, order);
    if (kept < n && draws[order[depth - 1]] < threshold) {
      for (let m = kept; m < n; m++) draws[m] = posterior.draw(rng, perm[m]);
      count = n;
      selectTopK(draws, null, count, depth, order);
    }
    for (let s = 0; s < k; s++) {
      const self = position[s];
      // t_s and t_{s+1}: the s-th and (s+1)-th largest draws of the others (1-based; t_0 = +∞, none left = −∞).
      let upper = Number.POSITIVE_INFINITY;
      let lower = Number.NEGATIVE_INFINITY;
      let seen = 0;
      for (let j = 0; j < depth; j++) {
        const other = order[j];
        if (other === self) continue;
        seen++;
        if (seen === s) upper = draws[other];
        else if (seen === s + 1) {
          lower = draws[other];
          break;
        }
      }
      const item = shown[s];
      const mean = posterior.mean(item);
      // F(upper) and F(lower), skipping the CDF where the Chernoff bound puts it within 1e-12 of 1 or 0.
      const top =
        upper === Number.POSITIVE_INFINITY || (upper > mean && posterior.upperTail(item, upper) < NEGLIGIBLE)
          ? 1
          : posterior.cdf(item, upper);
      const bottom =
        lower === Number.NEGATIVE_INFINITY || (lower < mean && posterior.lowerTail(item, lower) < NEGLIGIBLE)
          ? 0
          : posterior.cdf(item, lower);
      const term = top - bottom;
      sums[s] += term;
      squares[s] += term * term;
    }
  }
  const floor = settings.floor ?? DEFAULT_FLOOR;
  let worst = 0;
  for (let s = 0; s < k; s++) {
    const p = sums[s] / replicates;
    out[s] = Math.max(p, floor);
    if (replicates > 1) {
      const variance = Math.max(0, (squares[s] - replicates * p * p) / (replicates - 1));
      worst = Math.max(worst, Math.sqrt(variance / replicates));
    }
  }
  return { standardError: worst, prunedMass, pruned: n - kept };
}

const betaRanking = new BetaRanking();
const gammaRanking = new GammaRanking();

/** `thompson`: the slate is the top k of θᵢ ~ Beta(αᵢ, βᵢ). */
export function thompsonPropensities(
  alpha: Float64Array,
  beta: Float64Array,
  n: number,
  shown: Int32Array,
  k: number,
  rng: Rng,
  settings: MonteCarloSettings,
  scratch: PropensityScratch,
  out: Float64Array,
): ThompsonEstimate {
  return rankingPropensities(betaRanking.use(alpha, beta), n, shown, k, rng, settings, scratch, out);
}

/** `corrected-thompson`: the slate is the top k of vᵢ ~ Gamma(shapeᵢ, rateᵢ). */
export function correctedThompsonPropensities(
  shape: Float64Array,
  rate: Float64Array,
  n: number,
  shown: Int32Array,
  k: number,
  rng: Rng,
  settings: MonteCarloSettings,
  scratch: PropensityScratch,
  out: Float64Array,
): ThompsonEstimate {
  return rankingPropensities(gammaRanking.use(shape, rate), n, shown, k, rng, settings, scratch, out);
}
