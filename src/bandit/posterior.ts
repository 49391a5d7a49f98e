/**
 * Beta posteriors with the model-informed prior: the model's p̂ acts as m pseudo-impressions, so
 * α = m·p̂ + clicks and β = m·(1 − p̂) + (impressions − clicks). With few impressions the model decides; as
 * impressions grow the observed click-through rate takes over.
 *
 * Tempering: Thompson sampling draws from Beta(α/τᵢ, β/τᵢ), which keeps the mean α / (α + β) and divides the
 * variance by about 1/τᵢ. The draws stay Beta draws, so their propensities are computed as for any Beta
 * posterior. The temperature of an arm starts at τ₀ (`temperature`) and comes back towards 1 as the arm's
 * impressions nᵢ grow past n₀ (`impressions`):
 *
 *   τᵢ = 1 − (1 − τ₀) · n₀ / (n₀ + nᵢ)      (τᵢ = τ₀ for an unseen arm, (1 + τ₀)/2 at n₀ impressions, → 1)
 *
 * An arm the model alone vouches for is explored little around its p̂ (the model's prior acts as m/τ₀
 * pseudo-impressions), while a well-counted arm gets the plain posterior, as Thompson sampling's regret
 * guarantees ask for: an arm unlucky in its first impressions is not frozen out by an overconfident
 * posterior. τ₀ = 1 is plain Thompson sampling.
 */

/** p̂ is clamped into [P_MIN, 1 − P_MIN] so that α and β stay strictly positive. */
export const P_MIN = 1e-6;

/** p̂ as the posteriors take it: clamped into [P_MIN, 1 − P_MIN]; a score that is not a number (NaN) is P_MIN. */
export function priorMean(score: number): number {
  if (!(score >= P_MIN)) return P_MIN;
  return Math.min(score, 1 - P_MIN);
}

/** The tempering of Thompson sampling's posteriors (see the file comment). */
export interface Tempering {
  /** τ₀ ∈ (0, 1]: the temperature of an arm without impressions (1: no tempering). */
  readonly temperature: number;
  /** n₀ > 0: the impressions at which an arm's temperature has come halfway back to 1. */
  readonly impressions: number;
}

/** Plain posteriors: τᵢ = 1 for every arm. */
export const UNTEMPERED: Tempering = Object.freeze({ temperature: 1, impressions: 1 });

/** τᵢ of an arm with `impressions` impressions. */
export function armTemperature(tempering: Tempering, impressions: number): number {
  const n0 = tempering.impressions;
  return 1 - ((1 - tempering.temperature) * n0) / (n0 + impressions);
}

/**
 * Fills `alpha[i]`, `beta[i]` for i < n from scores p̂ and the arm counts, tempered by `tempering` (default:
 * the plain posterior). Counts are sanitised: negative or non-finite counts count as 0 and clicks never exceed
 * impressions (impressions may be fractional).
 */
export function fillPosteriors(
  scores: Float32Array,
  impressions: Float64Array,
  clicks: Float64Array,
  priorStrength: number,
  n: number,
  alpha: Float64Array,
  beta: Float64Array,
  tempering: Tempering = UNTEMPERED,
): void {
  const m = priorStrength;
  const tempered = tempering.temperature < 1;
  for (let i = 0; i < n; i++) {
    const p = priorMean(scores[i]);
    let imp = impressions[i];
    if (!(imp > 0 && imp < Number.POSITIVE_INFINITY)) imp = 0;
    let clk = clicks[i];
    if (!(clk > 0 && clk < Number.POSITIVE_INFINITY)) clk = 0;
    if (clk > imp) imp = clk;
    const scale = tempered ? 1 / armTemperature(tempering, imp) : 1;
    alpha[i] = scale * (m * p + clk);
    beta[i] = scale * (m * (1 - p) + (imp - clk));
  }
}
