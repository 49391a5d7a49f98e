/**
 * The simulated world's stand-in for the engine's scoring model (the ONNX model of `models/`): what p̂ a
 * trained model would give a user for an item, and how that differs from the truth of `click-model.ts`.
 *
 *   p̂(u, i) = σ(baseLogit + popularity_i + w · ⟨v_u, a_i⟩_seen / √d + ε_ik + η_i + bias_category(i))
 *
 * - v_u = c_k + ρ·(taste_u − c_k), the model's picture of the user: the segment centroid c_k plus a share ρ
 *   (`model.personalization`) of the user's own deviation from it, as user features (history, recent clicks)
 *   let a real model see part of what makes one user differ from the segment;
 * - ⟨·,·⟩_seen leaves out the last `model.blindDimensions` latent dimensions: a feature that matters and that
 *   the model cannot see, so its errors are systematic and correlated across items, not noise;
 * - ε_ik ~ N(0, noiseSd²) per (item, segment), drawn once (population.ts): the model's idiosyncratic error;
 * - η_i ~ N(0, itemErrorSd²) per item, shared by all segments: the appeal an item's features do not show (a
 *   new item has no click history); minus the quality boost of a new-items burst, which the model cannot see;
 * - bias_category (`model.categoryLogitError`): a systematic error on a part of the catalog, as in a model
 *   trained before a shift in tastes (negative: the model underrates that category);
 * - the model knows nothing of popularity shocks.
 */
import { sigmoid } from './click-model.ts';
import type { SimItem, SimUser } from './population.ts';

export interface ScoringModelParameters {
  baseLogit: number;
  tasteWeight: number;
  /** ρ in [0, 1]: the share of a user's deviation from the segment centroid the model sees. */
  personalization: number;
  /** Latent dimensions (the last ones) the model cannot see. */
  blindDimensions: number;
  /** Systematic logit error per category. */
  categoryLogitError: Readonly<Record<string, number>>;
}

export class ScoringModel {
  constructor(
    readonly parameters: ScoringModelParameters,
    private readonly centroids: readonly Float64Array[],
  ) {}

  /** p̂(u, i) for a user as they are now (see the file comment). */
  score(user: SimUser, item: SimItem): number {
    if (item.fixedCtr !== undefined) return 0.5;
    const p = this.parameters;
    const centroid = this.centroids[user.segment];
    const d = item.attributes.length;
    const seen = Math.max(0, d - p.blindDimensions);
    let dot = 0;
    for (let j = 0; j < seen; j++) {
      const v = centroid[j] + p.personalization * (user.taste[j] - centroid[j]);
      dot += v * item.attributes[j];
    }
    const affinity = d > 0 ? dot / Math.sqrt(d) : 0;
    return sigmoid(
      p.baseLogit +
        item.popularity +
        p.tasteWeight * affinity +
        item.modelError[user.segment] +
        item.modelItemError +
        (p.categoryLogitError[item.category] ?? 0),
    );
  }
}
