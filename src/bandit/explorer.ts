/**
 * One slate from scores and arm counts: posteriors → ranking values → top k → propensities, on buffers
 * reused between calls (grown when a request has more candidates than any before). Results stay valid until
 * the next `rank` call.
 */
import type { PolicyName } from '../domain/policy-names.ts';
import type { Rng } from '../stats/rng.ts';
import { type ArmTable, fillPosteriorMeans, fillRankValues, type PolicyParams } from './policies.ts';
import { fillPosteriors, type Tempering, UNTEMPERED } from './posterior.ts';
import {
  EXACT,
  epsilonGreedyPropensities,
  integralMethod,
  type MonteCarloSettings,
  monteCarloMethod,
  type PropensityMethod,
  PropensityScratch,
  rankedPropensities,
  uniformPropensities,
} from './propensity.ts';
import { selectTopK } from './slate.ts';
import { IntegralScratch, thompsonPropensitiesByIntegration } from './thompson-integral.ts';
import { thompsonPropensities } from './thompson-propensity.ts';

/**
 * Thompson sampling's logging propensities of `shown[0..count−1]` by numerical integration, into `out`
 * (floored at `floor`, default 1e-4), with their method record.
 */
export function thompsonIntegralPropensities(
  alpha: Float64Array,
  beta: Float64Array,
  n: number,
  shown: Int32Array,
  count: number,
  scratch: IntegralScratch,
  out: Float64Array,
  floor = 1e-4,
): PropensityMethod {
  const estimate = thompsonPropensitiesByIntegration(alpha, beta, n, shown, count, scratch, out, floor);
  return integralMethod(estimate.tailBias);
}

export class SlateExplorer implements ArmTable {
  /** Arm impressions per candidate; the caller fills them before `preparePosteriors`. */
  impressions: Float64Array;
  /** Arm clicks per candidate; the caller fills them before `preparePosteriors`. */
  clicks: Float64Array;
  alpha: Float64Array;
  beta: Float64Array;
  /** Ranking values of the last `rank` (θ for Thompson sampling). */
  values: Float64Array;
  /** Candidate indices of the last slate, best first. */
  order: Int32Array;
  /** Propensities of the last slate, per slot. */
  propensities: Float64Array;
  private keys: Float64Array;
  private means: Float64Array;
  private uniform = false;
  private readonly scratch: PropensityScratch;
  private readonly integral = new IntegralScratch();
  private readonly monteCarlo: MonteCarloSettings;

  constructor(monteCarlo: MonteCarloSettings, capacity = 256) {
    this.monteCarlo = monteCarlo;
    this.impressions = new Float64Array(capacity);
    this.clicks = new Float64Array(capacity);
    this.alpha = new Float64Array(capacity);
    this.beta = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.keys = new Float64Array(capacity);
    this.means = new Float64Array(capacity);
    this.order = new Int32Array(capacity);
    this.propensities = new Float64Array(capacity);
    this.scratch = new PropensityScratch(capacity);
  }

  /** Makes room for n candidates (the arm count buffers are emptied when they grow). */
  ensure(n: number): void {
    if (this.alpha.length >= n) return;
    const size = Math.max(n, this.alpha.length * 2);
    this.impressions = new Float64Array(size);
    this.clicks = new Float64Array(size);
    this.alpha = new Float64Array(size);
    this.beta = new Float64Array(size);
    this.values = new Float64Array(size);
    this.keys = new Float64Array(size);
    this.means = new Float64Array(size);
    this.order = new Int32Array(size);
    this.propensities = new Float64Array(size);
    this.scratch.ensure(size);
  }

  /**
   * α, β from the scores and the arm counts already written into `impressions` and `clicks`, tempered by
   * `tempering` (see posterior.ts; default: the plain posterior). The propensities of a later Thompson slate
   * are those of draws from these α, β.
   */
  preparePosteriors(
    scores: Float32Array,
    priorStrength: number,
    n: number,
    tempering: Tempering = UNTEMPERED,
  ): void {
    fillPosteriors(scores, this.impressions, this.clicks, priorStrength, n, this.alpha, this.beta, tempering);
  }

  /** Ranks n candidates with `policy` and fills `order[0..count-1]`; returns count = min(k, n). */
  rank(policy: PolicyName, n: number, k: number, params: PolicyParams, rng: Rng): number {
    const ranked = fillRankValues(policy, this, n, params, rng, this.values, this.keys);
    this.uniform = ranked.uniform;
    return selectTopK(this.values, ranked.keyed ? this.keys : null, n, k, this.order);
  }

  /**
   * Propensities of the last slate (`count` slots) under `policy`, into `propensities`: the logging
   * propensities, divisors of every off-policy estimate. Thompson sampling's are integrated numerically
   * (thompson-integral.ts), so that their inverses are not inflated by Monte Carlo noise.
   */
  computePropensities(
    policy: PolicyName,
    n: number,
    count: number,
    params: PolicyParams,
    rng: Rng,
  ): PropensityMethod {
    if (policy === 'thompson') {
      return thompsonIntegralPropensities(
        this.alpha,
        this.beta,
        n,
        this.order,
        count,
        this.integral,
        this.propensities,
        this.monteCarlo.floor,
      );
    }
    return this.propensitiesOf(policy, n, this.order, count, params, rng, this.monteCarlo, this.propensities);
  }

  /**
   * P(shown[s] at slot s) under `policy` for s < count, into `out`, for any slate of distinct candidates: the
   * shown slate itself, or another policy's slate (a shadow policy's probabilities of the logged slate). Reads
   * the posteriors and, for greedy and UCB1, the ranking values of the last `rank`, which must have been with
   * `policy`.
   */
  propensitiesOf(
    policy: PolicyName,
    n: number,
    shown: Int32Array,
    count: number,
    params: PolicyParams,
    rng: Rng,
    monteCarlo: MonteCarloSettings,
    out: Float64Array,
  ): PropensityMethod {
    switch (policy) {
      case 'thompson': {
        const estimate = thompsonPropensities(
          this.alpha,
          this.beta,
          n,
          shown,
          count,
          rng,
          monteCarlo,
          this.scratch,
          out,
        );
        return monteCarloMethod(monteCarlo, estimate.standardError, estimate.prunedMass);
      }
      case 'greedy':
        rankedPropensities(this.values, n, shown, count, this.scratch, out);
        return EXACT;
      case 'ucb1':
        rankedPropensities(this.values, n, shown, count, this.scratch, out);
        return EXACT;
      case 'epsilon-greedy':
        fillPosteriorMeans(this, n, this.means);
        epsilonGreedyPropensities(this.means, n, shown, count, params.epsilon, this.scratch, out);
        return EXACT;
      default:
        uniformPropensities(n, count, out);
        return EXACT;
    }
  }

  /** Whether the last ranking was uniformly random (`random`, or ε-greedy exploring). */
  get lastWasUniform(): boolean {
    return this.uniform;
  }
}
