/**
 * Slate policies the in-process runner plays against a simulated world: the decision core's own policies
 * (`src/bandit`), over impressions and clicks the runner keeps per (segment, item) — the statistics the
 * engine keeps per context segment. For each request the candidates get the model-informed Beta posteriors
 * α = m·p̂ + clicks, β = m·(1 − p̂) + (impressions − clicks), the policy fills one ranking value per
 * candidate, and the top `slots` fill the slate in rank order:
 *
 * - `thompson`: θ ~ Beta(α/τᵢ, β/τᵢ) (the engine's policy, `model.priorStrength` = m; the temperature τᵢ of
 *   `model.thompsonTemperature` and `model.temperingImpressions`, see `src/bandit/posterior.ts`);
 * - `greedy`: the posterior mean α / (α + β): no exploration;
 * - `ucb1`: posterior mean + c·√(2·ln(N + 1) / (nᵢ + 1)), N the segment's impressions of the candidates;
 * - `epsilon-greedy`: greedy, or with probability ε a uniformly random slate;
 * - `random`: a uniformly random slate.
 *
 * Counts are kept as the stream topology folds them: raw impressions, or, with the position-bias model on
 * (`stream.positionBias`, an examination probability e(s) per slot s), e(s) per impression in slot s and the
 * missing 1 − e(s) added back when it is clicked (`streams/fold/position-bias.ts`).
 */
import { SlateExplorer } from '../../src/bandit/explorer.ts';
import { fillPosteriorMeans } from '../../src/bandit/policies.ts';
import { fillPosteriors, type Tempering } from '../../src/bandit/posterior.ts';
import type { MonteCarloSettings } from '../../src/bandit/propensity.ts';
import { selectTopK } from '../../src/bandit/slate.ts';
import type { Rng } from '../../src/stats/rng.ts';
import { examinationProbability } from '../../streams/fold/position-bias.ts';
import type { SimItem } from '../world/population.ts';

export const SIM_POLICIES = ['thompson', 'greedy', 'ucb1', 'epsilon-greedy', 'random'] as const;
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
  /** Records one impression of `item` in `segment`, shown in `slot` (0-based), and whether it was clicked. */
  observe(segment: number, item: SimItem, slot: number, clicked: boolean): void;
  /**
   * The slate greedy would deal from the posteriors of the last `choose` (their means, which tempering keeps):
   * what the policy knew at that moment, without its exploration.
   */
  meanSlate(): SimItem[];
}

export interface PolicyOptions {
  rng: Rng;
  segments: number;
  /** Strength m of the model-informed prior. */
  priorStrength: number;
  /** Exploration probability of `epsilon-greedy` (default 0.1). */
  epsilon?: number;
  /** Exploration weight c of `ucb1` (default 1). */
  ucbC?: number;
  /** Tempering of `thompson`'s posteriors (default: none, plain Thompson sampling). */
  tempering?: Tempering;
  /** Examination probability per slot (the position-bias model on), or absent: raw impression counts. */
  examination?: readonly number[];
}

/** Impressions and clicks per (segment, item index), grown as items arrive. */
class ArmCounts {
  impressions: Float64Array[];
  clicks: Float64Array[];
  totals: Float64Array;

  constructor(
    segments: number,
    private readonly examination: readonly number[] | undefined,
  ) {
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

  observe(segment: number, item: SimItem, slot: number, clicked: boolean): void {
    this.ensure(item.index);
    // As the fold counts: e(slot) per impression, and a click proves the examination (adds 1 − e(slot)).
    this.impressions[segment][item.index] += clicked ? 1 : examinationProbability(this.examination, slot);
    if (clicked) this.clicks[segment][item.index] += 1;
    this.totals[segment] += 1;
  }
}

/** The `slots` candidates of highest key, in descending key order. */
export function topByKey(candidates: readonly SimItem[], keys: Float64Array, slots: number): SimItem[] {
  const out = new Int32Array(Math.min(slots, candidates.length));
  const k = selectTopK(keys, null, candidates.length, slots, out);
  return Array.from(out.subarray(0, k), (i) => candidates[i]);
}

/** The runner ranks slates and never asks for propensities: the explorer's Monte Carlo settings go unused. */
const RANK_ONLY: MonteCarloSettings = { replicates: 1, delta: 0.05 };

/**
 * One of the decision core's policies (`src/bandit`), through the gateway's own `SlateExplorer`: the same
 * model-informed posteriors, ranking values and top-k selection on the same reused buffers.
 */
class CorePolicy implements SlatePolicy {
  private readonly arms: ArmCounts;
  /** The gateway's explorer: its buffers hold the arm counts, posteriors, ranking values and the slate. */
  private readonly explorer = new SlateExplorer(RANK_ONLY);
  private scores = new Float32Array(256);
  private means = new Float64Array(256);
  private last: { candidates: readonly SimItem[]; slots: number } = { candidates: [], slots: 0 };

  constructor(
    readonly name: SimPolicyName,
    private readonly options: PolicyOptions,
  ) {
    this.arms = new ArmCounts(options.segments, options.examination);
  }

  choose(request: SlateRequest): SimItem[] {
    const { candidates } = request;
    const n = candidates.length;
    const explorer = this.explorer;
    explorer.ensure(n);
    if (this.scores.length < n) this.scores = new Float32Array(n * 2);
    const seen = this.arms.impressions[request.segment];
    const clicked = this.arms.clicks[request.segment];
    const impressions = explorer.impressions;
    const clicks = explorer.clicks;
    for (let i = 0; i < n; i++) {
      const item = candidates[i];
      this.scores[i] = request.score(item);
      impressions[i] = item.index < seen.length ? seen[item.index] : 0;
      clicks[i] = item.index < clicked.length ? clicked[item.index] : 0;
    }
    fillPosteriors(
      this.scores,
      impressions,
      clicks,
      this.options.priorStrength,
      n,
      explorer.alpha,
      explorer.beta,
      this.options.tempering,
    );
    const k = explorer.rank(
      this.name,
      n,
      request.slots,
      { epsilon: this.options.epsilon ?? 0.1, ucbC: this.options.ucbC ?? 1 },
      this.options.rng,
    );
    const slate: SimItem[] = [];
    for (let s = 0; s < k; s++) slate.push(candidates[explorer.order[s]]);
    this.last = { candidates, slots: request.slots };
    return slate;
  }

  meanSlate(): SimItem[] {
    const { candidates, slots } = this.last;
    if (this.means.length < candidates.length) this.means = new Float64Array(candidates.length * 2);
    fillPosteriorMeans(this.explorer, candidates.length, this.means);
    return topByKey(candidates, this.means, slots);
  }

  observe(segment: number, item: SimItem, slot: number, clicked: boolean): void {
    this.arms.observe(segment, item, slot, clicked);
  }
}

export function createPolicy(name: SimPolicyName, options: PolicyOptions): SlatePolicy {
  return new CorePolicy(name, options);
}
