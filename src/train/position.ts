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
