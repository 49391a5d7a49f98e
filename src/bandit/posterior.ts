/**
 * Beta posteriors with the model-informed prior: the model's p̂ acts as m pseudo-impressions, so
 * α = m·p̂ + clicks and β = m·(1 − p̂) + (impressions − clicks). With few impressions the model decides; as
 * impressions grow the observed click-through rate takes over.
 */

/** p̂ is clamped into [P_MIN, 1 − P_MIN] so that α and β stay strictly positive. */
export const P_MIN = 1e-6;

/**
 * Fills `alpha[i]`, `beta[i]` for i < n from scores p̂ and the arm counts. Counts are sanitised: negative or
 * non-finite counts count as 0 and clicks never exceed impressions (impressions may be fractional).
 */
export function fillPosteriors(
  scores: Float32Array,
  impressions: Float64Array,
  clicks: Float64Array,
  priorStrength: number,
  n: number,
  alpha: Float64Array,
  beta: Float64Array,
): void {
  const m = priorStrength;
  for (let i = 0; i < n; i++) {
    let p = scores[i];
    if (!(p >= P_MIN)) p = P_MIN;
    else if (p > 1 - P_MIN) p = 1 - P_MIN;
    let imp = impressions[i];
    if (!(imp > 0 && imp < Number.POSITIVE_INFINITY)) imp = 0;
    let clk = clicks[i];
    if (!(clk > 0 && clk < Number.POSITIVE_INFINITY)) clk = 0;
    if (clk > imp) imp = clk;
    alpha[i] = m * p + clk;
    beta[i] = m * (1 - p) + (imp - clk);
  }
}
