/**
 * A policy replayed on one logged decision: from the logged candidate set (p̂ and arm counts) and a policy's
 * settings, the policy's probability of each (item, slot) of the logged slate, the slate it would deal, and the
 * model's expected p̂ per slot under it. The posteriors, ranking values and propensities come from the gateway's
 * own code (`SlateExplorer`, Thompson sampling's numerical integral), so a candidate is evaluated with exactly
 * the policy the gateway would run.
 */
import { SlateExplorer } from '../bandit/explorer.ts';
import type { MonteCarloSettings } from '../bandit/propensity.ts';
import { IntegralScratch, thompsonPropensitiesByIntegration } from '../bandit/thompson-integral.ts';
import type { CandidateSet } from '../domain/candidate-set.ts';
import type { PolicyName } from '../domain/policy-names.ts';
import type { Rng } from '../stats/rng.ts';
import type { CandidateSpec } from './policy-spec.ts';

/** A policy with every setting resolved (the spec's, else the logged decision's). */
export interface ReplayPolicy {
  policy: PolicyName;
  priorStrength: number;
  temperature: number;
  temperingImpressions: number;
  epsilon: number;
  ucbC: number;
}

/** The logging policy of a decision, as its candidate set records it. */
export function loggedPolicy(policy: PolicyName, set: CandidateSet): ReplayPolicy {
  return {
    policy,
    priorStrength: set.priorStrength,
    temperature: set.temperature,
    temperingImpressions: set.temperingImpressions,
    epsilon: set.epsilon,
    ucbC: set.ucbC,
  };
}

/** A candidate's policy on a logged decision: the spec's settings, the logging decision's where it has none. */
export function resolvePolicy(spec: CandidateSpec, logged: ReplayPolicy): ReplayPolicy {
  return {
    policy: spec.policy,
    priorStrength: spec.priorStrength ?? logged.priorStrength,
    temperature: spec.temperature ?? logged.temperature,
    temperingImpressions: spec.temperingImpressions ?? logged.temperingImpressions,
    epsilon: spec.epsilon ?? logged.epsilon,
    ucbC: spec.ucbC ?? logged.ucbC,
  };
}

/** Thompson draws whose slates average the model's p̂ per slot (the direct method's term). */
const DIRECT_DRAWS = 32;
/** Only Thompson sampling's propensities are computed here, by integration: the Monte Carlo settings go unused. */
const UNUSED: MonteCarloSettings = { replicates: 1, delta: 0.05 };

export class PolicyReplay {
  private readonly explorer = new SlateExplorer(UNUSED);
  private readonly integral = new IntegralScratch();
  private scores = new Float32Array(256);
  private loaded: ReplayPolicy | null = null;
  private rotated = new Int32Array(16);
  private rotation = new Float64Array(16);
  private n = 0;

  /** Loads the candidates' posteriors under `policy` from `scores` (p̂ per candidate) and the logged counts. */
  load(set: CandidateSet, scores: readonly number[], policy: ReplayPolicy): number {
    const n = set.itemIds.length;
    const explorer = this.explorer;
    explorer.ensure(n);
    if (this.scores.length < n) this.scores = new Float32Array(Math.max(n, this.scores.length * 2));
    for (let i = 0; i < n; i++) {
      this.scores[i] = scores[i];
      explorer.impressions[i] = set.impressions[i];
      explorer.clicks[i] = set.clicks[i];
    }
    explorer.preparePosteriors(this.scores, policy.priorStrength, n, {
      temperature: policy.temperature,
      impressions: policy.temperingImpressions,
    });
    this.loaded = policy;
    this.n = n;
    return n;
  }

  private current(): ReplayPolicy {
    if (this.loaded === null) throw new Error('PolicyReplay: load a decision first');
    return this.loaded;
  }

  /** P(shown[s] at slot s) for s < count under the loaded policy, into `out` (not floored). */
  probabilities(shown: Int32Array, count: number, rng: Rng, out: Float64Array): void {
    const policy = this.current();
    const explorer = this.explorer;
    const n = this.n;
    if (policy.policy === 'thompson') {
      thompsonPropensitiesByIntegration(
        explorer.alpha,
        explorer.beta,
        n,
        shown,
        count,
        this.integral,
        out,
        0,
      );
      return;
    }
    const params = { epsilon: policy.epsilon, ucbC: policy.ucbC };
    // Greedy and UCB1 read the ranking values of the last ranking with the same policy.
    if (policy.policy === 'greedy' || policy.policy === 'ucb1')
      explorer.rank(policy.policy, n, count, params, rng);
    explorer.propensitiesOf(policy.policy, n, shown, count, params, rng, UNUSED, out);
  }

  /**
   * P(shown[t] at slot s) for every t, s < count under the loaded policy, into `out` at t·width + s: each shown
   * item's probability of every slot of the slate, which the position-based estimators pool. The slate is
   * rotated through the slots, one `probabilities` call a rotation (`count` calls).
   */
  slotRows(shown: Int32Array, count: number, rng: Rng, out: Float64Array, width: number): void {
    if (this.rotated.length < count) {
      this.rotated = new Int32Array(count);
      this.rotation = new Float64Array(count);
    }
    const rotated = this.rotated.subarray(0, count);
    for (let r = 0; r < count; r++) {
      for (let s = 0; s < count; s++) rotated[s] = shown[(s + r) % count];
      this.probabilities(rotated, count, rng, this.rotation);
      for (let s = 0; s < count; s++) out[((s + r) % count) * width + s] = this.rotation[s];
    }
  }

  /** Deals one slate of `count` slots with the loaded policy; the candidate indices stay valid until the next call. */
  deal(count: number, rng: Rng): Int32Array {
    const policy = this.current();
    this.explorer.rank(policy.policy, this.n, count, { epsilon: policy.epsilon, ucbC: policy.ucbC }, rng);
    return this.explorer.order;
  }

  /**
   * Σᵢ π(i at s)·p̂ᵢ for s < count into `out`: the expected p̂ in slot s under the loaded policy, with `rewardScores`
   * the reward model's p̂ per candidate. Exact for random and ε-greedy's exploring part, one dealt slate for the
   * deterministic rankings (ties are dealt at random, which keeps it unbiased) and an average over 32 dealt slates
   * for Thompson sampling. Returns the first slate dealt (valid until the next call).
   */
  expectedScores(count: number, rewardScores: readonly number[], rng: Rng, out: Float64Array): Int32Array {
    const policy = this.current();
    const n = this.n;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += rewardScores[i];
    mean /= n;
    if (policy.policy === 'random') {
      out.fill(mean, 0, count);
      return this.deal(count, rng);
    }
    const greedyShare = policy.policy === 'epsilon-greedy' ? 1 - policy.epsilon : 1;
    const ranked: ReplayPolicy['policy'] = policy.policy === 'epsilon-greedy' ? 'greedy' : policy.policy;
    const draws = ranked === 'thompson' ? DIRECT_DRAWS : 1;
    out.fill(0, 0, count);
    const order = this.explorer.order;
    const first = new Int32Array(count);
    const params = { epsilon: policy.epsilon, ucbC: policy.ucbC };
    for (let d = 0; d < draws; d++) {
      this.explorer.rank(ranked, n, count, params, rng);
      if (d === 0) first.set(order.subarray(0, count));
      for (let s = 0; s < count; s++) out[s] += rewardScores[order[s]] / draws;
    }
    for (let s = 0; s < count; s++) out[s] = greedyShare * out[s] + (1 - greedyShare) * mean;
    if (policy.policy === 'epsilon-greedy') return this.deal(count, rng);
    return first;
  }
}
