/**
 * Propensities of Thompson sampling by conditional (Rao–Blackwellized) Monte Carlo.
 *
 * Each of R replicates draws θ for the candidates from Beta(α, β); for the item i shown in slot s it adds the
 * exact probability, given the other candidates' draws, that θᵢ falls between the s-th and (s+1)-th largest of
 * them: Fᵢ(t_s) − Fᵢ(t_{s+1}), Fᵢ the Beta(αᵢ, βᵢ) CDF, t_0 = 1. Each term lies in [0, 1] and has mean
 * P(i at s); its variance never exceeds that of counting how often i lands in s (usually far below).
 *
 * Pruning: only the top k + 1 draws matter. With D the (k+1)-th largest of μⱼ − 3σⱼ, a candidate whose tail
 * P(θⱼ > D) is tiny (by a Chernoff bound, see `chernoffTail`) is left out of the replicates while the total
 * left-out tail bound ε stays within `pruneMass`. A replicate whose (k+1)-th largest kept draw falls below D draws the left-out candidates too,
 * so a term can differ from the full computation only when some left-out θⱼ exceeds D: the bias is at most ε,
 * which the reported error bound includes. A CDF value the same bound puts within 1e-12 of 0 or 1 is not
 * computed.
 */
import { sampleBeta } from '../stats/beta-sampler.ts';
import type { Rng } from '../stats/rng.ts';
import { logBeta } from '../stats/special.ts';
import { betaCdf } from './beta-cdf.ts';
import type { MonteCarloSettings, PropensityScratch } from './propensity.ts';
import { selectTopK } from './slate.ts';

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
/** Draws within this of 1 round to exactly 1.0. */
const ONE_ULP_BELOW_ONE = 2 ** -54;

/** Bernoulli relative entropy KL(μ ‖ x), with log1p so that neither 1 − μ nor 1 − x is rounded first. */
function bernoulliKl(mean: number, x: number): number {
  return mean * Math.log(mean / x) + (1 - mean) * (Math.log1p(-mean) - Math.log1p(-x));
}

/**
 * Chernoff bound on P(θ ≥ x) for θ ~ Beta(a, b) and x above the mean μ: with θ = Gₐ / (Gₐ + G_b) for
 * independent Gamma variables, P(θ ≥ x) = P((1 − x)Gₐ − x·G_b ≥ 0) ≤ min over λ of
 * E[exp(λ((1 − x)Gₐ − x·G_b))] = exp(−(a + b)·KL(μ ‖ x)), KL the Bernoulli relative entropy.
 */
export function chernoffTail(a: number, b: number, mean: number, x: number): number {
  return Math.exp(-(a + b) * bernoulliKl(mean, x));
}

/**
 * The same bound on P(θ ≤ x) for x below the mean: exp(−(a + b)·KL(μ ‖ x)). Taken at x itself, never as the
 * upper tail of 1 − θ at 1 − x: for x below ~1e-16, 1 − x rounds to 1 and that bound would be 0.
 */
export function chernoffLowerTail(a: number, b: number, mean: number, x: number): number {
  return x <= 0 ? 0 : Math.exp(-(a + b) * bernoulliKl(mean, x));
}

/**
 * The masses of the two values where Thompson draws tie in floating point: P(θ rounds to 1.0) = P(1 − θ ≤
 * 2⁻⁵⁴) = I_{2⁻⁵⁴}(b, a), and P(θ rounds to 0) ≈ P(θ ≤ 2⁻¹⁰⁷⁴), the smallest double. Written to `out`.
 */
export function roundingAtoms(a: number, b: number, logNorm: number, out: Float64Array): void {
  out[0] = betaCdf(a, b, logNorm, Number.MIN_VALUE);
  out[1] = betaCdf(b, a, logNorm, ONE_ULP_BELOW_ONE);
}

/**
 * Orders candidates into `scratch.perm`, kept ones first, and returns how many are kept; the left-out tail
 * mass is written to `scratch.mass[0]`. Candidates with μ < D get the Chernoff bound of P(θ > D); those
 * below an equal share of the budget go first, then others while the budget lasts.
 */
function partition(
  alpha: Float64Array,
  beta: Float64Array,
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
    const a = alpha[j];
    const b = beta[j];
    const mean = a / (a + b);
    if (mean >= threshold) continue;
    tails[j] = chernoffTail(a, b, mean, threshold);
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

/** F restricted to the draws strictly between 0 and 1.0: min(max(F, P(θ = 0)), 1 − P(θ = 1.0)). */
function clampCdf(value: number, atom0: number, atom1: number): number {
  return Math.min(Math.max(value, atom0), 1 - atom1);
}

/** How many of draws[0..count−1] other than `self` equal `value` exactly. */
function countEqual(draws: Float64Array, count: number, self: number, value: number): number {
  let equal = 0;
  for (let m = 0; m < count; m++) if (m !== self && draws[m] === value) equal++;
  return equal;
}

/** D: the (k+1)-th largest of μⱼ − 3σⱼ, or 0 (no pruning) when there are too few candidates. */
function pruneThreshold(
  alpha: Float64Array,
  beta: Float64Array,
  n: number,
  k: number,
  scratch: PropensityScratch,
): number {
  if (n <= k + 1) return 0;
  const low = scratch.draws;
  for (let j = 0; j < n; j++) {
    const a = alpha[j];
    const b = beta[j];
    const sum = a + b;
    low[j] = a / sum - 3 * Math.sqrt((a * b) / (sum * sum * (sum + 1)));
  }
  selectTopK(low, null, n, k + 1, scratch.order);
  return low[scratch.order[k]];
}

/** Estimates P(shown[s] at slot s) for s < k into `out` (floored); see the file comment. */
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
  scratch.ensure(n + 1);
  const { sums, squares, logNorms, slotOf, position, perm } = scratch;
  const replicates = settings.replicates;
  const depth = Math.min(k + 1, n);
  const atoms = scratch.atoms(k);
  for (let s = 0; s < k; s++) {
    sums[s] = 0;
    squares[s] = 0;
    logNorms[s] = logBeta(alpha[shown[s]], beta[shown[s]]);
    slotOf[shown[s]] = s;
    roundingAtoms(alpha[shown[s]], beta[shown[s]], logNorms[s], atoms.subarray(2 * s, 2 * s + 2));
  }
  const budget = settings.pruneMass ?? DEFAULT_PRUNE_MASS;
  const threshold = budget > 0 ? pruneThreshold(alpha, beta, n, k, scratch) : 0;
  const kept = partition(alpha, beta, n, k, budget, scratch, threshold);
  const prunedMass = kept === n ? 0 : scratch.mass[0];
  for (let m = 0; m < n; m++) {
    const slot = slotOf[perm[m]];
    if (slot >= 0) position[slot] = m;
  }
  for (let s = 0; s < k; s++) slotOf[shown[s]] = -1;

  const draws = scratch.draws;
  const order = scratch.order;
  for (let r = 0; r < replicates; r++) {
    for (let m = 0; m < kept; m++) draws[m] = sampleBeta(rng, alpha[perm[m]], beta[perm[m]]);
    let count = kept;
    selectTopK(draws, null, count, depth, order);
    if (kept < n && draws[order[depth - 1]] < threshold) {
      for (let m = kept; m < n; m++) draws[m] = sampleBeta(rng, alpha[perm[m]], beta[perm[m]]);
      count = n;
      selectTopK(draws, null, count, depth, order);
    }
    for (let s = 0; s < k; s++) {
      const self = position[s];
      // t_s and t_{s+1}: the s-th and (s+1)-th largest draws of the others (1-based; t_0 = 1, none left = 0).
      let upper = 1;
      let lower = 0;
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
      const a = alpha[item];
      const b = beta[item];
      const mean = a / (a + b);
      // F(upper) and F(lower), skipping the CDF where the Chernoff bound puts it within 1e-12 of 1 or 0.
      const top =
        upper >= 1 || (upper > mean && chernoffTail(a, b, mean, upper) < NEGLIGIBLE)
          ? 1
          : betaCdf(a, b, logNorms[s], upper);
      const bottom =
        lower <= 0 || (lower < mean && chernoffLowerTail(a, b, mean, lower) < NEGLIGIBLE)
          ? 0
          : betaCdf(a, b, logNorms[s], lower);
      // Draws rounding to exactly 0 or 1.0 are atoms that tie; the slate orders a tie uniformly at random.
      const atom0 = atoms[2 * s];
      const atom1 = atoms[2 * s + 1];
      let term = clampCdf(top, atom0, atom1) - clampCdf(bottom, atom0, atom1);
      if (atom1 > 0 && upper >= 1) {
        const ones = countEqual(draws, count, self, 1);
        if (s <= ones) term += atom1 / (ones + 1);
      }
      if (atom0 > 0 && lower <= 0) {
        const zeros = countEqual(draws, count, self, 0);
        const above = n - 1 - zeros;
        if (s >= above && s <= above + zeros) term += atom0 / (zeros + 1);
      }
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
