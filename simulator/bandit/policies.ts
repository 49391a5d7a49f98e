/**
 * Slate policies the in-process runner plays against a simulated world. Each keeps impressions and clicks
 * per (segment, item) — the same statistics the engine keeps per context segment — and ranks candidates
 * for a request; the top `slots` fill the slate in rank order.
 *
 * - `thompson`: θ ~ Beta(α, β) with the model-informed prior α = m·p̂ + clicks, β = m·(1 − p̂) + (impressions −
 *   clicks), rank by θ (the engine's policy, `model.priorStrength` = m).
 * - `greedy`: rank by the posterior mean of that same prior, α / (α + β): no exploration.
 * - `ucb1`: rank by the UCB1 index clicks/n + √(2 ln N / n), N the segment's impressions; unseen items first.
 * - `random`: a uniformly random slate.
 */
import { sampleBeta } from '../../src/stats/beta-sampler.ts';
import type { Rng } from '../../src/stats/rng.ts';
import type { SimItem } from '../world/population.ts';

export const SIM_POLICIES = ['thompson', 'greedy', 'ucb1', 'random'] as const;
export type SimPolicyName = (typeof SIM_POLICIES)[number];

export interface SlateRequest {
  segment: number;
  candidates: readonly SimItem[];
  slots: number;
  /** The scoring model's p̂ of a candidate for this request's segment. */
  score(item: SimItem): number;
}

export interface SlatePolicy {
  readonly name: SimPolicyName;
  choose(request: SlateRequest): SimItem[];
  /** Records one impression of `item` in `segment` and whether it was clicked. */
  observe(segment: number, item: SimItem, clicked: boolean): void;
}

export interface PolicyOptions {
  rng: Rng;
  segments: number;
  /** Strength m of the model-informed prior. */
  priorStrength: number;
}

/** Impressions and clicks per (segment, item index), grown as items arrive. */
class ArmTable {
  impressions: Float64Array[];
  clicks: Float64Array[];
  totals: Float64Array;

  constructor(segments: number) {
    this.impressions = Array.from({ length: segments }, () => new Float64Array(256));
    this.clicks = Array.from({ length: segments }, () => new Float64Array(256));
    this.totals = new Float64Array(segments);
  }

  ensure(index: number): void {
    const size = this.impressions[0].length;
    if (index < size) return;
    let next = size;
    while (next <= index) next *= 2;
    const grow = (arrays: Float64Array[]) =>
      arrays.map((old) => {
        const fresh = new Float64Array(next);
        fresh.set(old);
        return fresh;
      });
    this.impressions = grow(this.impressions);
    this.clicks = grow(this.clicks);
  }

  observe(segment: number, item: SimItem, clicked: boolean): void {
    this.ensure(item.index);
    this.impressions[segment][item.index] += 1;
    if (clicked) this.clicks[segment][item.index] += 1;
    this.totals[segment] += 1;
  }
}

/** The `slots` candidates of highest key, in descending key order. */
export function topByKey(candidates: readonly SimItem[], keys: Float64Array, slots: number): SimItem[] {
  const k = Math.min(slots, candidates.length);
  const chosen: number[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const key = keys[i];
    if (chosen.length === k && key <= keys[chosen[k - 1]]) continue;
    let j = chosen.length < k ? chosen.length : k - 1;
    if (chosen.length < k) chosen.push(i);
    while (j > 0 && keys[chosen[j - 1]] < key) {
      chosen[j] = chosen[j - 1];
      j--;
    }
    chosen[j] = i;
  }
  return chosen.map((i) => candidates[i]);
}

abstract class RankingPolicy implements SlatePolicy {
  abstract readonly name: SimPolicyName;
  protected readonly arms: ArmTable;
  protected keys = new Float64Array(256);

  constructor(protected readonly options: PolicyOptions) {
    this.arms = new ArmTable(options.segments);
  }

  protected abstract key(request: SlateRequest, item: SimItem, impressions: number, clicks: number): number;

  choose(request: SlateRequest): SimItem[] {
    const { candidates } = request;
    if (this.keys.length < candidates.length) this.keys = new Float64Array(candidates.length * 2);
    const impressions = this.arms.impressions[request.segment];
    const clicks = this.arms.clicks[request.segment];
    for (let i = 0; i < candidates.length; i++) {
      const item = candidates[i];
      this.arms.ensure(item.index);
      const n = item.index < impressions.length ? impressions[item.index] : 0;
      const c = item.index < clicks.length ? clicks[item.index] : 0;
      this.keys[i] = this.key(request, item, n, c);
    }
    return topByKey(candidates, this.keys, request.slots);
  }

  observe(segment: number, item: SimItem, clicked: boolean): void {
    this.arms.observe(segment, item, clicked);
  }
}

class ThompsonPolicy extends RankingPolicy {
  readonly name = 'thompson' as const;
  protected key(request: SlateRequest, item: SimItem, n: number, c: number): number {
    const m = this.options.priorStrength;
    const p = request.score(item);
    return sampleBeta(this.options.rng, m * p + c, m * (1 - p) + (n - c));
  }
}

class GreedyPolicy extends RankingPolicy {
  readonly name = 'greedy' as const;
  protected key(request: SlateRequest, item: SimItem, n: number, c: number): number {
    const m = this.options.priorStrength;
    return (m * request.score(item) + c) / (m + n);
  }
}

class Ucb1Policy extends RankingPolicy {
  readonly name = 'ucb1' as const;
  private logTotal = 0;
  override choose(request: SlateRequest): SimItem[] {
    this.logTotal = Math.log(Math.max(1, this.arms.totals[request.segment]));
    return super.choose(request);
  }
  protected key(_request: SlateRequest, item: SimItem, n: number, c: number): number {
    // Unseen items first, in a fixed order (lower index first) so ties are deterministic.
    if (n === 0) return 1e9 - item.index;
    return c / n + Math.sqrt((2 * this.logTotal) / n);
  }
}

class RandomPolicy extends RankingPolicy {
  readonly name = 'random' as const;
  protected key(): number {
    return this.options.rng.next();
  }
}

export function createPolicy(name: SimPolicyName, options: PolicyOptions): SlatePolicy {
  switch (name) {
    case 'thompson':
      return new ThompsonPolicy(options);
    case 'greedy':
      return new GreedyPolicy(options);
    case 'ucb1':
      return new Ucb1Policy(options);
    case 'random':
      return new RandomPolicy(options);
  }
}
