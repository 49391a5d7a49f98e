/**
 * The gate's off-policy comparison from carousels logged with the candidate as the shadow: the candidate's
 * policy by self-normalized inverse propensity scoring (SNIPS of src/stats, weight = the shadow's probability
 * of the shown item in its slot over the serving policy's), the active policy on-policy (its own log, weight 1),
 * and their difference with a delta-method interval whose terms are summed per carousel (the items of one
 * carousel share a user and a moment). Pure.
 */
import { snips } from '../stats/off-policy.ts';
import { normalQuantile } from '../stats/special.ts';
import type { OffPolicyComparison } from './gate.ts';

export interface ShadowLog {
  /** Per shown item: clicked (0/1), the serving policy's propensity, the shadow's probability, its carousel. */
  reward: Float64Array;
  propensity: Float64Array;
  targetProbability: Float64Array;
  carousel: readonly string[];
}

export function compareShadowLog(log: ShadowLog, confidence: number): OffPolicyComparison | null {
  const n = log.reward.length;
  if (n < 2) return null;
  const candidate = snips(log, { confidence });
  const onPolicy = snips({ ...log, targetProbability: log.propensity }, { confidence });
  const vc = candidate.estimate;
  const va = onPolicy.estimate;
  const meanWeight = candidate.meanWeight;
  let total = 0;
  let cluster = 0;
  for (let i = 0; i < n; i++) {
    const w = log.targetProbability[i] / log.propensity[i];
    const r = log.reward[i];
    cluster += (w * (r - vc)) / meanWeight - (r - va);
    if (i === n - 1 || log.carousel[i + 1] !== log.carousel[i]) {
      total += cluster * cluster;
      cluster = 0;
    }
  }
  const se = Math.sqrt(total) / n;
  const z = normalQuantile(0.5 + confidence / 2);
  const difference = vc - va;
  return {
    method: 'SNIPS over carousels logged with the candidate as the shadow',
    rows: n,
    effectiveSampleSize: candidate.effectiveSampleSize,
    candidate: vc,
    active: va,
    difference,
    ci: [difference - z * se, difference + z * se],
    confidence,
  };
}
