/**
 * Empirical Bayes for the model-informed prior: how many pseudo-impressions the model's p̂ is worth, read off
 * the live counts. If an arm's click-through is p ~ Beta(m·p̂, m·(1 − p̂)) and it got c clicks in n
 * examinations, c is beta-binomial: E[c] = n·p̂ and Var(c) = n·p̂·(1 − p̂)·(1 + (n − 1)·ρ) with ρ = 1/(m + 1).
 * Summed over the arms, the method of moments gives
 *
 *   ρ̂ = Σ [(c − P)² − P·(1 − q)] / Σ n·(n − 1)·q·(1 − q)
 *
 * with P = Σ p̂·e the clicks p̂ predicted over the arm's examinations (p̂ may change between impressions) and
 * q = P / n. The first sum is the spread of the clicks around the model beyond what coin flips give, the second
 * what a spread of ρ would give. A prior guess ρ₀ = 1/(m₀ + 1) weighs in as `priorWeight` units of the second
 * sum, so the first arms do not swing the fit. m̂ = 1/ρ̂ − 1, held in [`min`, `max`].
 */

/** The arms of one context segment, as the fold counts them, and the clicks p̂ predicted for each. */
export interface ArmMoments {
  /** Examination-weighted impressions per arm. */
  readonly impressions: ArrayLike<number>;
  readonly clicks: ArrayLike<number>;
  /** Σ p̂·e over the arm's impressions: the clicks the model predicted. */
  readonly predicted: ArrayLike<number>;
  /** The arms to read (indices into the arrays above). */
  readonly arms: ArrayLike<number>;
  readonly count: number;
}

export interface PriorStrengthFit {
  /** The prior guess m₀ the fit starts from. */
  readonly prior: number;
  /** Its weight, in units of Σ n·(n − 1)·q·(1 − q) (one arm of 100 examinations at q = 8 % is about 730). */
  readonly priorWeight: number;
  readonly min: number;
  readonly max: number;
}

/** m̂ of the arms' counts around p̂ (see the file comment). */
export function fitPriorStrength(moments: ArmMoments, fit: PriorStrengthFit): number {
  let excess = 0;
  let scale = 0;
  const { impressions, clicks, predicted, arms } = moments;
  for (let a = 0; a < moments.count; a++) {
    const i = arms[a];
    const n = impressions[i];
    const p = predicted[i];
    if (!(n > 1) || !(p > 0)) continue;
    const q = Math.min(1, p / n);
    const residual = clicks[i] - p;
    excess += residual * residual - p * (1 - q);
    scale += n * (n - 1) * q * (1 - q);
  }
  const rho = (excess + fit.priorWeight / (fit.prior + 1)) / (scale + fit.priorWeight);
  const m = rho > 0 ? 1 / rho - 1 : fit.max;
  return Math.min(fit.max, Math.max(fit.min, m));
}
