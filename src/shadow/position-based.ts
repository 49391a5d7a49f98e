/**
 * Off-policy estimators under the position-based click model (PBM): a click on item a in slot s happens with
 * probability b(s)·q(a), the slot's examination times the item's attractiveness, the examination hypothesis the
 * engine's own position-bias model (`stream.positionBias`) rests on. Then the clicks an item gets anywhere in the
 * slate estimate its attractiveness, whatever slot it was shown in: the estimators pool an item's outcomes over
 * the slots (Li, Abbasi-Yadkori, Kveton, Muthukrishnan, Vinay and Wen, "Offline evaluation of ranking policies
 * with click models", KDD 2018). A candidate that puts in slot 0 an item the logger shows mostly in slot 3 is
 * then estimated from those slot-3 clicks, where the item-and-slot estimators (estimators.ts) have almost none.
 *
 * With π(a at s) the candidate's and μ(a at s) the logger's probability of item a in slot s on a decision, and
 * b the examination curve, an item's examination-weighted presence is
 *
 *   π_b(a) = Σ_s π(a at s)·b(s),      μ_b(a) = Σ_s μ(a at s)·b(s),
 *
 * so the logger's clicks on a (any slot) have expectation μ_b(a)·q(a) and the candidate's π_b(a)·q(a). Each shown
 * impression j (item a_j, slot s_j, reward r_j, the model's p̂_j) weighs w_j = π_b(a_j) / μ_b(a_j), and with N
 * impressions
 *
 *   PBM-IPS   = Σ w_j r_j / N
 *   PBM-SNIPS = Σ w_j r_j / Σ w_j b(s_j) · Σ b(s_j) / N               (E[Σ_j w_j b(s_j)] = Σ_s b(s) a carousel)
 *   PBM-DR    = Σ (κ·b(s_j)·d_j + w_j (r_j − κ·b(s_j)·p̂_j)) / N      d_j = Σᵢ π(i at s_j)·p̂ᵢ
 *
 * with κ = Σ r_j / Σ b(s_j)·p̂_j calibrating the model's p̂ as an attractiveness. They need only that the logger
 * shows each item the candidate shows somewhere in the slate (μ_b(a) > 0), not in the same slot; they are
 * unbiased where clicks follow the PBM and b is right, and biased where they do not (a cascade of clicks, an
 * item that draws attention from its neighbours).
 *
 * The examination curve is estimated from the log itself (the engine's configured curve is an assumption, not a
 * measurement), by comparing each slot with slot 0 on the same items: for a slot s,
 *
 *   b(s) / b(0) = Σ_{j in s} c_j·μ(a_j at 0)/(μ(a_j at 0) + μ(a_j at s))  /  Σ_{j in 0} c_j·μ(a_j at s)/(μ(a_j at 0) + μ(a_j at s)),
 *
 * c_j the click. Both sums have expectation Σ ω(a)·b(·)·q(a) with ω = μ(a at 0)·μ(a at s)/(μ(a at 0) + μ(a at s))
 * (an item counts as much as the logger plays it in both slots), so the ratio is consistent, and every term's
 * weight lies in [0, 1] (no inverse propensities). The bootstrap estimates the curve again in each resample.
 */

/** The per-impression arrays the position-based estimators read, besides the item-and-slot ones. */
export interface PositionBasedRows {
  /** Slots a row holds: the widest carousel's. */
  width: number;
  /** Row j (`width` entries): the logging policy's probability of impression j's item in each slot. */
  logging: Float64Array;
  /** Row j: the candidate's probability of impression j's item in each slot. */
  target: Float64Array;
  /** Per impression: the click that estimates the examination curve (also for other rewards). */
  clicks: Float64Array;
  /** Per impression: the serving model's p̂ of the shown item. */
  score: Float64Array;
  /** Per impression: Σᵢ π(i at s_j)·p̂ᵢ, the model's expected p̂ in the impression's slot under the candidate. */
  expectedScore: Float64Array;
}

export interface PositionBasedEstimates {
  ips: number;
  snips: number;
  dr: number;
}

/**
 * The examination curve b(s) relative to slot 0 (b(0) = 1) from the log's clicks, with carousel c counted
 * `multiplicity[c]` times (null: once each), into `out` (length `width`; the sums go to `sums`, 2·width). A slot
 * with no usable comparison keeps b = 1 (no evidence of lower examination).
 */
export function estimateExamination(
  rows: PositionBasedRows,
  carousel: Int32Array,
  slot: Int32Array,
  multiplicity: Float64Array | null,
  sums: Float64Array,
  out: Float64Array,
): Float64Array {
  const { width, logging, clicks } = rows;
  sums.fill(0, 0, 2 * width);
  for (let j = 0; j < slot.length; j++) {
    const c = clicks[j];
    if (c === 0) continue;
    const m = multiplicity === null ? 1 : multiplicity[carousel[j]];
    if (m === 0) continue;
    const row = j * width;
    const s = slot[j];
    const at0 = logging[row];
    if (s === 0) {
      // A click in slot 0 enters the denominator of every slot s' > 0.
      for (let t = 1; t < width; t++) {
        const both = at0 + logging[row + t];
        if (both > 0) sums[2 * t + 1] += (m * c * logging[row + t]) / both;
      }
    } else {
      const both = at0 + logging[row + s];
      if (both > 0) sums[2 * s] += (m * c * at0) / both;
    }
  }
  out[0] = 1;
  for (let s = 1; s < width; s++) {
    const above = sums[2 * s];
    const below = sums[2 * s + 1];
    out[s] = below > 0 && above > 0 ? above / below : 1;
  }
  return out;
}

/** w_j = π_b(a_j) / μ_b(a_j) for every impression under the curve `examination`, into `out` (0 where μ_b = 0). */
export function positionBasedWeights(
  rows: PositionBasedRows,
  impressions: number,
  examination: Float64Array,
  out: Float64Array,
): Float64Array {
  const { width, logging, target } = rows;
  for (let j = 0; j < impressions; j++) {
    let candidate = 0;
    let logger = 0;
    const row = j * width;
    for (let s = 0; s < width; s++) {
      candidate += target[row + s] * examination[s];
      logger += logging[row + s] * examination[s];
    }
    out[j] = logger > 0 ? candidate / logger : 0;
  }
  return out;
}

/**
 * PBM-IPS, PBM-SNIPS and PBM-DR (see the file comment) of `reward`, with carousel c counted `multiplicity[c]`
 * times (null: once each), from the weights and curve of the same resample.
 */
export function positionBasedEstimates(
  rows: PositionBasedRows,
  carousel: Int32Array,
  slot: Int32Array,
  reward: Float64Array,
  multiplicity: Float64Array | null,
  weight: Float64Array,
  examination: Float64Array,
): PositionBasedEstimates {
  const { score, expectedScore } = rows;
  let total = 0;
  let ips = 0;
  let examined = 0;
  let weightedExamined = 0;
  let rewards = 0;
  let modelled = 0;
  let direct = 0;
  let correction = 0;
  for (let j = 0; j < slot.length; j++) {
    const m = multiplicity === null ? 1 : multiplicity[carousel[j]];
    if (m === 0) continue;
    const w = weight[j];
    const r = reward[j];
    const b = examination[slot[j]];
    total += m;
    ips += m * w * r;
    examined += m * b;
    weightedExamined += m * w * b;
    rewards += m * r;
    modelled += m * b * score[j];
    direct += m * b * expectedScore[j];
    correction += m * w * b * score[j];
  }
  // κ·Σ b·d + Σ w·r − κ·Σ w·b·p̂, with κ = Σ r / Σ b·p̂.
  const kappa = modelled > 0 ? rewards / modelled : 0;
  return {
    ips: ips / total,
    snips: weightedExamined > 0 ? (ips / weightedExamined) * (examined / total) : 0,
    dr: (kappa * direct + ips - kappa * correction) / total,
  };
}
