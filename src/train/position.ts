/**
 * Position bias, handled by a slot feature held neutral when serving. Pure.
 *
 * An item shown in slot 0 is clicked more than the same item in slot 5, whatever its merit. The trainers see
 * one extra column, `position = log(1 + slot)`, so the other weights learn merit net of where the item was
 * shown. The served model cannot know the slot (it scores candidates before the slate is built), so the
 * position column is fixed at its mean over the training rows and folded into the first layer's bias: the
 * served p̂ is the click probability at the average shown position, which is what the Thompson prior's
 * counts (clicks over impressions in every slot) are calibrated to. Ranking is unchanged by the fixed value
 * for a logistic model; for the MLP the value is where the network saw most of its data.
 *
 * Weighting impressions by the inverse of the examination probability is the other common choice; it needs
 * an examination model the log does not identify by itself and inflates the variance of rare bottom slots,
 * so croupier trains with the slot feature.
 */

/** The position column's value for a slot. */
export const positionValue = (slot: number): number => Math.log1p(Math.max(0, slot));

/** The feature rows with the position column appended: n × (width + 1). */
export function withPosition(features: Float32Array, slots: Int32Array, width: number): Float32Array {
  const n = slots.length;
  const d = width + 1;
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    out.set(features.subarray(r * width, (r + 1) * width), r * d);
    out[r * d + width] = positionValue(slots[r]);
  }
  return out;
}

/** The serving value of the position column: its mean over the training rows. */
export function neutralPosition(slots: Int32Array, rows: ArrayLike<number>): number {
  let sum = 0;
  for (let k = 0; k < rows.length; k++) sum += positionValue(slots[rows[k]]);
  return rows.length === 0 ? 0 : sum / rows.length;
}

/** A model's move from the neutral slot to a logged one: logit p_s = logit p̂ + intercept + slope · log(1 + s). */
export interface SlotOffset {
  intercept: number;
  slope: number;
}

const logit = (p: number): number => {
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  return Math.log(q / (1 - q));
};

/**
 * Fits a model's slot offset on labelled rows (Newton's method on the two parameters, the model's own logit a
 * fixed offset). Offline comparisons need it: a holdout's labels are clicks at the slots the logging policy
 * chose, and that policy put its own high scores in the top slots, so position-neutral predictions compared
 * with them as they are favour the model that logged the data. Each model gets its own best offset, fitted on
 * the training rows, never on the holdout.
 */
export function fitSlotOffset(
  scores: ArrayLike<number>,
  slots: ArrayLike<number>,
  labels: ArrayLike<number>,
): SlotOffset {
  let intercept = 0;
  let slope = 0;
  const n = labels.length;
  const z = new Float64Array(n);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    z[i] = logit(scores[i]);
    x[i] = positionValue(slots[i]);
  }
  for (let iteration = 0; iteration < 100; iteration++) {
    let ga = 0;
    let gb = 0;
    // A tiny ridge keeps the step finite when a slot never clicks.
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-(z[i] + intercept + slope * x[i])));
      const r = p - labels[i];
      const w = p * (1 - p);
      ga += r;
      gb += r * x[i];
      haa += w;
      hab += w * x[i];
      hbb += w * x[i] * x[i];
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    intercept -= da;
    slope -= db;
    if (!Number.isFinite(intercept) || !Number.isFinite(slope)) return { intercept: 0, slope: 0 };
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  return { intercept, slope };
}

/** Predictions moved to their logged slots by a fitted offset. */
export function atLoggedSlot(
  scores: ArrayLike<number>,
  slots: ArrayLike<number>,
  offset: SlotOffset,
): Float64Array {
  const out = new Float64Array(scores.length);
  for (let i = 0; i < out.length; i++) {
    const z = logit(scores[i]) + offset.intercept + offset.slope * positionValue(slots[i]);
    out[i] = 1 / (1 + Math.exp(-z));
  }
  return out;
}
