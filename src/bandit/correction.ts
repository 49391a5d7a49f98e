/**
 * The posteriors of `corrected-thompson`: the model's p̂ for this user times a per-arm correction θ learned
 * from the arm's clicks against the clicks the model expected of its impressions (a Gamma–Poisson model).
 *
 * - Clicks of arm i (an item in a context segment) are Poisson with mean θᵢ·Xᵢ, where Xᵢ = Σ p̂·e(slot) over
 *   the arm's impressions: the clicks the model expected, each impression weighted by the examination
 *   probability of its slot (the position-bias model of the stream topology).
 * - Prior θᵢ ~ Gamma(m·μ, m), m = `strength` (in expected clicks), centred on μ = (Σ clicks + m) / (Σ X + m)
 *   over the request's candidates: how far the model's p̂ runs below or above the clicks in this segment as a
 *   whole (a model is rarely calibrated), shrunk towards 1. Posterior: Gamma(m·μ + cᵢ, m + Xᵢ).
 * - The ranking value vᵢ = θᵢ·p̂ᵢ keeps the model's personalisation: the arm learns how wrong the model is
 *   about the item in the segment, not the item's average click rate, so two users of one segment still get
 *   the items the model ranks high for each of them. (A Beta posterior over raw counts forgets who the user
 *   is once the counts outweigh the prior.)
 * - Exploration scale s (`explorationScale`, in (0, 1]): the draw comes from Gamma(kᵢ·a, kᵢ·b), with the same
 *   mean and the variance divided by kᵢ = 1 + (1/s² − 1)·Xᵢ / (Xᵢ + H), H = `WELL_KNOWN_CLICKS`. An arm the data
 *   already knows (Xᵢ ≫ H) is explored with its posterior spread scaled by s; an arm with little evidence
 *   keeps its full spread, so a good arm that started unlucky is still tried (its regret stays logarithmic
 *   in the K-armed bandit). s = 1 is plain Thompson sampling.
 *
 * So vᵢ ~ Gamma(shapeᵢ, rateᵢ) with shapeᵢ = kᵢ·(m·μ + cᵢ) and rateᵢ = kᵢ·(m + Xᵢ) / p̂ᵢ, and its mean
 * shapeᵢ / rateᵢ is the corrected score.
 */
import { P_MIN } from './posterior.ts';

export interface CorrectionSettings {
  /** Strength m of the Gamma prior of the correction, in expected clicks (> 0). */
  readonly strength: number;
  /** s in (0, 1]: the spread of well-known arms' draws relative to their posterior's. */
  readonly explorationScale: number;
}

/** The defaults, chosen on the development seeds of `npm run bench:policies` (see its file comment). */
export const DEFAULT_CORRECTION: CorrectionSettings = Object.freeze({ strength: 16, explorationScale: 0.4 });

/** H: the expected clicks at which an arm gets half of the exploration scale's narrowing. */
export const WELL_KNOWN_CLICKS = 4;

function finiteCount(x: number): number {
  return x > 0 && x < Number.POSITIVE_INFINITY ? x : 0;
}

/**
 * Fills `shape[i]`, `rate[i]` for i < n from the scores p̂ and the arms' impressions, clicks and expected
 * clicks X. Counts are sanitised (negative or infinite count as 0); p̂ is clamped into [P_MIN, 1]. Where X is
 * NaN (a state that does not keep it), this request's p̂ times the arm's impressions stands in, and the
 * correction learns the item's click rate over the segment instead, as a Beta posterior does.
 */
export function fillCorrectedPosteriors(
  scores: Float32Array,
  impressions: Float64Array,
  clicks: Float64Array,
  expected: Float64Array,
  settings: CorrectionSettings,
  n: number,
  shape: Float64Array,
  rate: Float64Array,
): void {
  const m = settings.strength;
  const sharpen = 1 / (settings.explorationScale * settings.explorationScale) - 1;
  let clickSum = 0;
  let expectedSum = 0;
  for (let i = 0; i < n; i++) {
    let p = scores[i];
    if (!(p >= P_MIN)) p = P_MIN;
    else if (p > 1) p = 1;
    // p̂ into `rate` for the second pass, X into `shape`.
    rate[i] = p;
    const x = Number.isNaN(expected[i]) ? p * finiteCount(impressions[i]) : finiteCount(expected[i]);
    shape[i] = x;
    clickSum += finiteCount(clicks[i]);
    expectedSum += x;
  }
  const priorShape = (m * (clickSum + m)) / (expectedSum + m);
  for (let i = 0; i < n; i++) {
    const p = rate[i];
    const x = shape[i];
    const k = 1 + (sharpen * x) / (x + WELL_KNOWN_CLICKS);
    shape[i] = k * (priorShape + finiteCount(clicks[i]));
    rate[i] = (k * (m + x)) / p;
  }
}
