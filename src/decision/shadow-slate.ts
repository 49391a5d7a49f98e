/**
 * The shadow step of a decision: the slate the experiment's shadow policy would have dealt from the same
 * posteriors, with its propensities, and the shadow policy's probabilities of the slate actually shown (logged
 * for off-policy evaluation, never shown). It has its own random stream, so a shadow never shifts the draws of
 * the shown slate.
 */
import type { SlateExplorer } from '../bandit/explorer.ts';
import type { PolicyParams } from '../bandit/policies.ts';
import type { MonteCarloSettings } from '../bandit/propensity.ts';
import type { Decision, ItemInfo } from '../domain/decision.ts';
import type { PolicyName } from '../domain/policy-names.ts';
import { createRng, type Rng } from '../stats/rng.ts';
import { slateItems } from './explore.ts';

export class ShadowSlate {
  private shownOrder = new Int32Array(16);
  private shadowOfShown = new Float64Array(16);
  private readonly rng: Rng;
  /**
   * The shadow policy's probabilities of the shown slate are target probabilities (numerators of off-policy
   * estimates), not divisors: no floor, so an item the shadow policy practically never puts there gets ~0.
   */
  private readonly target: MonteCarloSettings;

  constructor(seed: number, monteCarlo: MonteCarloSettings) {
    this.rng = createRng((seed ^ 0x5bd1e995) >>> 0);
    this.target = { ...monteCarlo, floor: 0 };
  }

  /**
   * Ranks the candidates with `policy` on the explorer, right after the shown slate (`count` slots) was
   * ranked there: the explorer's order still holds the shown slate when this is called.
   */
  deal(
    explorer: SlateExplorer,
    policy: PolicyName,
    candidates: readonly ItemInfo[],
    scores: Float32Array,
    n: number,
    count: number,
    slots: number,
    params: PolicyParams,
    monteCarloRng: Rng,
  ): NonNullable<Decision['shadow']> {
    if (this.shownOrder.length < count) {
      this.shownOrder = new Int32Array(Math.max(count, this.shownOrder.length * 2));
      this.shadowOfShown = new Float64Array(this.shownOrder.length);
    }
    const shownOrder = this.shownOrder;
    const shadowOfShown = this.shadowOfShown;
    shownOrder.set(explorer.order.subarray(0, count));
    const shadowCount = explorer.rank(policy, n, slots, params, this.rng);
    const shadowMethod = explorer.computePropensities(policy, n, shadowCount, params, monteCarloRng);
    const shadowItems = slateItems(explorer, candidates, scores, shadowCount);
    const shownMethod = explorer.propensitiesOf(
      policy,
      n,
      shownOrder,
      count,
      params,
      monteCarloRng,
      this.target,
      shadowOfShown,
    );
    const shown: number[] = new Array(count);
    for (let s = 0; s < count; s++) shown[s] = shadowOfShown[s];
    return {
      policy,
      items: shadowItems,
      propensity: { ...shadowMethod },
      shownPropensities: shown,
      shownPropensity: { ...shownMethod },
    };
  }
}
