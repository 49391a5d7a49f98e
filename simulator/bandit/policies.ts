/**
 * Slate policies the in-process runner plays against a simulated world: the decision core's own policies
 * (`src/bandit`, through the gateway's `SlateExplorer`), over the counts the stream topology would keep per
 * (segment, item) arm. As the topology's fold does (streams/fold/clickstream.ts, position-bias.ts), an
 * impression in slot s adds the examination probability e(s) to the arm's impressions (1 with the
 * position-bias model off), a click adds one click and the missing 1 − e(s), and the arm's expected clicks
 * grow by p̂·e(s), p̂ the model's score of the impression. For each request:
 *
 * - `corrected-thompson`: v ~ Gamma, the user's p̂ times a learned per-arm correction (src/bandit/correction.ts);
 * - `thompson`: θ ~ Beta(m·p̂ + clicks, m·(1 − p̂) + impressions − clicks) (`model.priorStrength` = m);
 * - `greedy`: the Beta posterior mean: no exploration;
 * - `ucb1`: Beta posterior mean + c·√(2·ln(N + 1) / (nᵢ + 1)), N the segment's impressions of the candidates;
 * - `epsilon-greedy`: greedy, or with probability ε a uniformly random slate;
 * - `random`: a uniformly random slate;
 * - `corrected-greedy` (simulator only, an ablation): the mean of the corrected score, no exploration — what
 *   `corrected-thompson` would be without exploring.
 */
import type { CorrectionSettings } from '../../src/bandit/correction.ts';
import { SlateExplorer } from '../../src/bandit/explorer.ts';
import type { MonteCarloSettings } from '../../src/bandit/propensity.ts';
import { selectTopK } from '../../src/bandit/slate.ts';
import { POLICY_NAMES, type PolicyName } from '../../src/domain/policy-names.ts';
import type { Rng } from '../../src/stats/rng.ts';
import { examinationProbability } from '../../streams/fold/position-bias.ts';
import type { SimItem } from '../world/population.ts';

export const SIM_POLICIES = [...POLICY_NAMES, 'corrected-greedy'] as const;
export type SimPolicyName = PolicyName | 'corrected-greedy';

export function isSimPolicy(value: string): value is SimPolicyName {
  return (SIM_POLICIES as readonly string[]).includes(value);
}

export interface SlateRequest {
  segment: number;
  candidates: readonly SimItem[];
  slots: number;
  /** The scoring model's p̂ of a candidate for this request's user. */
  score(item: SimItem): number;
}

export interface SlatePolicy {
  readonly name: SimPolicyName;
  choose(request: SlateRequest): SimItem[];
  /** Records the impression of `item` in `slot` (scored p̂ by the model) in `segment`, and whether it was clicked. */
  observe(segment: number, item: SimItem, slot: number, score: number, clicked: boolean): void;
}

/** What the engine's config decides about learning: the `model.*` knobs and the stream's examination table. */
export interface DecisionSettings {
  /** Strength m of the model-informed Beta prior (`model.priorStrength`). */
  priorStrength: number;
  /** `model.correctionStrength` and `model.explorationScale`. */
  correction: CorrectionSettings;
  /** Exploration probability of `epsilon-greedy` (`model.epsilon`). */
  epsilon: number;
  /** Exploration weight c of `ucb1` (`model.ucbC`). */
  ucbC: number;
  /** Examination probability per slot (the stream's position-bias model); undefined: the model is off. */
  examination: readonly number[] | undefined;
  /**
   * Whether the state keeps each arm's expected clicks (false: a state without that counter, where
   * `corrected-thompson` stands in this request's p̂ over the impressions).
   */
  expectedClicks: boolean;
}

export interface PolicyOptions {
  rng: Rng;
  segments: number;
  settings: DecisionSettings;
}

/** Impressions, clicks and expected clicks per (segment, item index), grown as items arrive. */
class ArmCounts {
  impressions: Float64Array[];
  clicks: Float64Array[];
  expected: Float64Array[];

  constructor(segments: number) {
    const table = () => Array.from({ length: segments }, () => new Float64Array(256));
    this.impressions = table();
    this.clicks = table();
    this.expected = table();
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
    this.expected = grow(this.expected);
  }

  observe(segment: number, item: SimItem, examination: number, score: number, clicked: boolean): void {
    this.ensure(item.index);
    this.impressions[segment][item.index] += clicked ? 1 : examination;
    this.expected[segment][item.index] += score * examination;
    if (clicked) this.clicks[segment][item.index] += 1;
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
 * posteriors, ranking values and top-k selection on the same reused buffers.
 */
class CorePolicy implements SlatePolicy {
  private readonly arms: ArmCounts;
  /** The gateway's explorer: its buffers hold the arm counts, posteriors, ranking values and the slate. */
  private readonly explorer = new SlateExplorer(RANK_ONLY);
  private scores = new Float32Array(256);
  private keys = new Float64Array(256);

  constructor(
    readonly name: SimPolicyName,
    private readonly options: PolicyOptions,
  ) {
    this.arms = new ArmCounts(options.segments);
  }

  choose(request: SlateRequest): SimItem[] {
    const { candidates } = request;
    const n = candidates.length;
    const { explorer, arms } = this;
    const { settings, rng } = this.options;
    explorer.ensure(n);
    if (this.scores.length < n) {
      this.scores = new Float32Array(n * 2);
      this.keys = new Float64Array(n * 2);
    }
    const seen = arms.impressions[request.segment];
    const clicked = arms.clicks[request.segment];
    const expected = arms.expected[request.segment];
    for (let i = 0; i < n; i++) {
      const index = candidates[i].index;
      const known = index < seen.length;
      this.scores[i] = request.score(candidates[i]);
      explorer.impressions[i] = known ? seen[index] : 0;
      explorer.clicks[i] = known ? clicked[index] : 0;
      explorer.expected[i] = !settings.expectedClicks ? Number.NaN : known ? expected[index] : 0;
    }
    explorer.preparePosteriors(this.scores, settings.priorStrength, n, settings.correction);
    let k: number;
    if (this.name === 'corrected-greedy') {
      for (let i = 0; i < n; i++) {
        explorer.values[i] = explorer.shape[i] / explorer.rate[i];
        this.keys[i] = rng.next();
      }
      k = selectTopK(explorer.values, this.keys, n, request.slots, explorer.order);
    } else {
      const params = { epsilon: settings.epsilon, ucbC: settings.ucbC };
      k = explorer.rank(this.name, n, request.slots, params, rng);
    }
    const slate: SimItem[] = [];
    for (let s = 0; s < k; s++) slate.push(candidates[explorer.order[s]]);
    return slate;
  }

  observe(segment: number, item: SimItem, slot: number, score: number, clicked: boolean): void {
    const examination = examinationProbability(this.options.settings.examination, slot);
    this.arms.observe(segment, item, examination, score, clicked);
  }
}

export function createPolicy(name: SimPolicyName, options: PolicyOptions): SlatePolicy {
  return new CorePolicy(name, options);
}
