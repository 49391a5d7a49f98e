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
 *
 * Two refinements, both optional: only arms with at least `minImpressions` examinations are read (an arm of a
 * few examinations carries almost nothing but coin flips), and `calibrated` reads the spread around r·P instead
 * of P, r = (Σ c + 20) / (Σ P + 20) over the arms read: a miscalibration that every arm of the segment shares
 * (p̂ read at another slot, the examination curve's own error) then does not count as the model's error about
 * items, which is what the prior's spread is for. The sums of several segments may be added into one fit
 * (`addMomentSums`, `strengthOf`) where one segment's arms are too few.
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
  /** Arms with fewer examinations are not read (default: any arm with more than one). */
  readonly minImpressions?: number;
  /** Read the spread around r·P, net of the miscalibration the arms share (see the file comment). */
  readonly calibrated?: boolean;
}

/** Pseudo-clicks of the shared calibration r = (Σ c + a) / (Σ P + a). */
const CALIBRATION_PRIOR = 20;

/** The method of moments' two sums over a set of arms: the clicks' spread beyond coin flips, and its scale. */
export interface MomentSums {
  excess: number;
  scale: number;
}

/** Adds the arms' sums of the method of moments to `sums` (see the file comment). */
export function addMomentSums(moments: ArmMoments, fit: PriorStrengthFit, sums: MomentSums): MomentSums {
  const { impressions, clicks, predicted, arms } = moments;
  const least = fit.minImpressions ?? 0;
  const read = (n: number, p: number) => n > 1 && n >= least && p > 0;
  let r = 1;
  if (fit.calibrated) {
    let c = 0;
    let p = 0;
    for (let a = 0; a < moments.count; a++) {
      const i = arms[a];
      if (!read(impressions[i], predicted[i])) continue;
      c += clicks[i];
      p += predicted[i];
    }
    r = (c + CALIBRATION_PRIOR) / (p + CALIBRATION_PRIOR);
  }
  for (let a = 0; a < moments.count; a++) {
    const i = arms[a];
    const n = impressions[i];
    if (!read(n, predicted[i])) continue;
    const p = r * predicted[i];
    const q = Math.min(1, p / n);
    const residual = clicks[i] - p;
    sums.excess += residual * residual - p * (1 - q);
    sums.scale += n * (n - 1) * q * (1 - q);
  }
  return sums;
}

/** m̂ from the method of moments' sums, with the prior guess weighed in and held in the fit's bounds. */
export function strengthOf(sums: MomentSums, fit: PriorStrengthFit): number {
  const rho = (sums.excess + fit.priorWeight / (fit.prior + 1)) / (sums.scale + fit.priorWeight);
  const m = rho > 0 ? 1 / rho - 1 : fit.max;
  return Math.min(fit.max, Math.max(fit.min, m));
}

/** m̂ of the arms' counts around p̂ (see the file comment). */
export function fitPriorStrength(moments: ArmMoments, fit: PriorStrengthFit): number {
  return strengthOf(addMomentSums(moments, fit, { excess: 0, scale: 0 }), fit);
}

/** Requests of a segment between two fits of its prior strength. */
export const REFIT_EVERY = 128;

/** Per segment: the clicks p̂ predicted per arm, the arms with counts, and the fitted prior strength. */
export class SegmentMoments {
  readonly predicted: Float64Array;
  readonly lastScore: Float32Array;
  readonly arms: Int32Array;
  private readonly known: Uint8Array;
  count = 0;
  requests = 0;
  strength: number | undefined;

  /** `log` receives every m̂ this segment's refits give. */
  constructor(
    items: number,
    private readonly log: number[] = [],
  ) {
    this.predicted = new Float64Array(items);
    this.lastScore = new Float32Array(items);
    this.arms = new Int32Array(items);
    this.known = new Uint8Array(items);
  }

  add(index: number, examination: number): void {
    this.predicted[index] += this.lastScore[index] * examination;
    if (this.known[index] === 0) {
      this.known[index] = 1;
      this.arms[this.count++] = index;
    }
  }

  /** The segment's arms with their counts, as the fit reads them. */
  armMoments(impressions: Float64Array, clicks: Float64Array): ArmMoments {
    return { impressions, clicks, predicted: this.predicted, arms: this.arms, count: this.count };
  }

  /** The segment's m̂, refitted to its counts on every `REFIT_EVERY`-th request; the prior guess before the first. */
  fitted(impressions: Float64Array, clicks: Float64Array, fit: PriorStrengthFit): number {
    if (this.requests++ % REFIT_EVERY === 0) {
      this.strength = fitPriorStrength(this.armMoments(impressions, clicks), fit);
      this.log.push(this.strength);
    }
    return this.strength ?? fit.prior;
  }
}
