/**
 * The explore step of a decision, around the explorer (src/bandit/explorer.ts): the candidates' arm counts
 * in, the slate items of its last ranking out.
 */
import type { SlateExplorer } from '../bandit/explorer.ts';
import type { ItemInfo, SlateItem, StateView } from '../domain/decision.ts';

/** Writes each candidate's impressions and clicks in `segment` into the explorer's arm count buffers. */
export function loadArmCounts(
  explorer: SlateExplorer,
  view: StateView,
  candidates: readonly ItemInfo[],
  n: number,
  segment: string,
): void {
  explorer.ensure(n);
  const impressions = explorer.impressions;
  const clicks = explorer.clicks;
  for (let i = 0; i < n; i++) {
    const arm = view.arm(candidates[i].itemId, segment);
    impressions[i] = arm.impressions;
    clicks[i] = arm.clicks;
  }
}

/** The slate items of the explorer's last ranking: `count` slots, best first, with propensities. */
export function slateItems(
  explorer: SlateExplorer,
  candidates: readonly ItemInfo[],
  scores: Float32Array,
  count: number,
): SlateItem[] {
  const items: SlateItem[] = new Array(count);
  const order = explorer.order;
  const values = explorer.values;
  const propensities = explorer.propensities;
  for (let s = 0; s < count; s++) {
    const i = order[s];
    items[s] = {
      itemId: candidates[i].itemId,
      slot: s,
      score: scores[i],
      sample: values[i],
      propensity: propensities[s],
    };
  }
  return items;
}

/** The scored feature rows of the explorer's last ranking's `count` slots, slot order (`count × width` floats). */
export function shownRows(
  explorer: SlateExplorer,
  rows: Float32Array,
  width: number,
  count: number,
): Float32Array {
  const out = new Float32Array(count * width);
  const order = explorer.order;
  for (let s = 0; s < count; s++) {
    const from = order[s] * width;
    out.set(rows.subarray(from, from + width), s * width);
  }
  return out;
}
