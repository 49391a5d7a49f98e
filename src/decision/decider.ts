/**
 * The decision core: from a request and a view of the learned state to a carousel.
 *
 *   candidates (live pool, request filters) → features (float32 matrix, the feature spec's order)
 *   → score (ONNX, micro-batched) → explore (posteriors with the model-informed prior, the policy's slate)
 *   → propensities → Decision (+ the shadow policy's slate and its probabilities of the shown slate, logged,
 *   never shown)
 *
 * Everything but the scoring await runs synchronously on buffers the decider reuses; the candidate list of a
 * request lives in a pooled scratch that survives the await.
 */
import { performance } from 'node:perf_hooks';
import { SlateExplorer } from '../bandit/explorer.ts';
import type { PolicyParams } from '../bandit/policies.ts';
import type { MonteCarloSettings, PropensityMethod } from '../bandit/propensity.ts';
import { CroupierError } from '../errors/index.ts';
import { type Assignment, ExperimentAssigner } from '../experiments/assign.ts';
import { type ExperimentsConfig, NO_EXPERIMENTS } from '../experiments/config.ts';
import type { Logger } from '../log/logger.ts';
import { FeatureAssembler } from '../scoring/features.ts';
import type { Scorer } from '../scoring/onnx-scorer.ts';
import { createRng } from '../stats/rng.ts';
import type { Decision, DecisionRequest, ItemInfo, PolicyName, SlateItem, StateView } from './types.ts';

export interface DeciderOptions {
  /** Scores feature matrices; its feature spec decides the matrix layout. */
  scorer: Pick<Scorer, 'spec' | 'model' | 'score'>;
  /** Default policy (experiments may override it per variant). */
  policy: PolicyName;
  /** Strength m of the model-informed Beta prior. */
  priorStrength: number;
  /** Experiments; default none. */
  experiments?: ExperimentsConfig;
  /** Seed of the decision, shadow and Monte Carlo generators. Default 1. */
  seed?: number;
  logger: Logger;
  /** ε of `epsilon-greedy`. Default 0.1. */
  epsilon?: number;
  /** c of `ucb1`. Default 1. */
  ucbC?: number;
  /**
   * Monte Carlo propensities of Thompson sampling: replicates R (default 8), δ (default 0.05), floor
   * (default 1e-4), pruneMass (default 1e-4; 0 draws every candidate in every replicate).
   */
  propensity?: { replicates?: number; delta?: number; floor?: number; pruneMass?: number };
  /** Most slots a request may ask for. Default 100. */
  maxSlots?: number;
  /** Clock (ms since epoch) for item ages. Default `Date.now`. */
  now?: () => number;
}

export interface Decider {
  decide(request: DecisionRequest, view: StateView): Promise<Decision>;
  close(): Promise<void>;
}

/** Segment key of the posteriors: `${device ?? 'unknown'}|${userSegment ?? 'unknown'}`. */
export function segmentKey(
  device: string | null | undefined,
  userSegment: string | null | undefined,
): string {
  return `${device ?? 'unknown'}|${userSegment ?? 'unknown'}`;
}

interface Scratch {
  candidates: ItemInfo[];
}

const US_PER_MS = 1000;

function micros(from: number, to: number): number {
  return Math.round((to - from) * US_PER_MS * 10) / 10;
}

export function createDecider(options: DeciderOptions): Decider {
  const replicates = options.propensity?.replicates ?? 8;
  const delta = options.propensity?.delta ?? 0.05;
  if (!(Number.isInteger(replicates) && replicates >= 1) || !(delta > 0 && delta < 1)) {
    throw new CroupierError(
      'CROUPIER_ERR_DECISION_INVALID',
      `propensity.replicates must be an integer ≥ 1 and propensity.delta in (0, 1), got ${replicates} and ${delta}`,
      { replicates, delta },
    );
  }
  if (!(options.priorStrength > 0)) {
    throw new CroupierError(
      'CROUPIER_ERR_DECISION_INVALID',
      `priorStrength must be > 0, got ${options.priorStrength}`,
      {
        priorStrength: options.priorStrength,
      },
    );
  }
  const seed = options.seed ?? 1;
  const scorer = options.scorer;
  const assembler = new FeatureAssembler(scorer.spec);
  const monteCarlo: MonteCarloSettings = {
    replicates,
    delta,
    floor: options.propensity?.floor,
    pruneMass: options.propensity?.pruneMass,
  };
  const explorer = new SlateExplorer(monteCarlo);
  // The shadow policy's probabilities of the shown slate are target probabilities (numerators of off-policy
  // estimates), not divisors: no floor, so an item the shadow policy practically never puts there gets ~0.
  const targetMonteCarlo: MonteCarloSettings = { ...monteCarlo, floor: 0 };
  let shownOrder = new Int32Array(16);
  let shadowOfShown = new Float64Array(16);
  const assigner = new ExperimentAssigner(options.experiments ?? NO_EXPERIMENTS);
  const rng = createRng(seed);
  const shadowRng = createRng((seed ^ 0x5bd1e995) >>> 0);
  const monteCarloRng = createRng((seed ^ 0x27d4eb2f) >>> 0);
  const defaults: PolicyParams = { epsilon: options.epsilon ?? 0.1, ucbC: options.ucbC ?? 1 };
  const maxSlots = options.maxSlots ?? 100;
  const now = options.now ?? Date.now;
  const pool: Scratch[] = [];
  let closed = false;

  function paramsOf(assignment: Assignment): PolicyParams {
    if (assignment.epsilon === undefined && assignment.ucbC === undefined) return defaults;
    return { epsilon: assignment.epsilon ?? defaults.epsilon, ucbC: assignment.ucbC ?? defaults.ucbC };
  }

  /** Builds the slate items of the explorer's last ranking. */
  function slateItems(candidates: ItemInfo[], scores: Float32Array, count: number): SlateItem[] {
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

  async function decide(request: DecisionRequest, view: StateView): Promise<Decision> {
    if (closed) throw new CroupierError('CROUPIER_ERR_DECISION_INVALID', 'the decider is closed', {});
    const slots = request.slots;
    if (!(Number.isInteger(slots) && slots >= 1 && slots <= maxSlots)) {
      throw new CroupierError(
        'CROUPIER_ERR_DECISION_INVALID',
        `slots must be an integer in [1, ${maxSlots}], got ${slots}`,
        {
          requestId: request.requestId,
          slots,
        },
      );
    }
    const t0 = performance.now();
    const scratch = pool.pop() ?? { candidates: [] };
    try {
      const candidates = scratch.candidates;
      const category = request.filters?.category;
      const live = view.items();
      let n = 0;
      for (let i = 0; i < live.length; i++) {
        const item = live[i];
        if (!item.available || (category !== undefined && item.category !== category)) continue;
        candidates[n++] = item;
      }
      const user = view.user(request.userId);
      const segment = segmentKey(request.context.device, user?.segment);
      const assignment = assigner.assign(request.userId);
      const policy = assignment.policy ?? options.policy;
      const priorStrength = assignment.priorStrength ?? options.priorStrength;
      const matrix = assembler.assemble(view, candidates, n, user, request.context, now());
      const t1 = performance.now();
      const { scores, modelVersion } = await scorer.score(matrix, n);
      const t2 = performance.now();

      explorer.ensure(n);
      const impressions = explorer.impressions;
      const clicks = explorer.clicks;
      for (let i = 0; i < n; i++) {
        const arm = view.arm(candidates[i].itemId, segment);
        impressions[i] = arm.impressions;
        clicks[i] = arm.clicks;
      }
      explorer.preparePosteriors(scores, priorStrength, n);
      const params = paramsOf(assignment);
      const count = explorer.rank(policy, n, slots, params, rng);
      const t3 = performance.now();
      const method: PropensityMethod = explorer.computePropensities(policy, n, count, params, monteCarloRng);
      const items = slateItems(candidates, scores, count);
      const t4 = performance.now();

      let shadow: Decision['shadow'] = null;
      if (assignment.shadow !== null && n > 0) {
        if (shownOrder.length < count) {
          shownOrder = new Int32Array(Math.max(count, shownOrder.length * 2));
          shadowOfShown = new Float64Array(shownOrder.length);
        }
        shownOrder.set(explorer.order.subarray(0, count));
        const shadowCount = explorer.rank(assignment.shadow, n, slots, params, shadowRng);
        const shadowMethod = explorer.computePropensities(
          assignment.shadow,
          n,
          shadowCount,
          params,
          monteCarloRng,
        );
        const shadowItems = slateItems(candidates, scores, shadowCount);
        const shownMethod = explorer.propensitiesOf(
          assignment.shadow,
          n,
          shownOrder,
          count,
          params,
          monteCarloRng,
          targetMonteCarlo,
          shadowOfShown,
        );
        const shown: number[] = new Array(count);
        for (let s = 0; s < count; s++) shown[s] = shadowOfShown[s];
        shadow = {
          policy: assignment.shadow,
          items: shadowItems,
          propensity: { ...shadowMethod },
          shownPropensities: shown,
          shownPropensity: { ...shownMethod },
        };
      }
      const t5 = performance.now();
      return {
        requestId: request.requestId,
        userId: request.userId,
        items,
        policy,
        modelVersion,
        experiment: assignment.experiment,
        variant: assignment.variant,
        segment,
        shadow,
        timings: {
          featuresUs: micros(t0, t1),
          scoringUs: micros(t1, t2),
          samplingUs: micros(t2, t3),
          propensityUs: micros(t3, t4),
          shadowUs: micros(t4, t5),
          totalUs: micros(t0, t5),
        },
        propensity: { ...method },
        assignments: assignment.layers.length > 0 ? assignment.layers.map((a) => ({ ...a })) : undefined,
      };
    } finally {
      pool.push(scratch);
    }
  }

  return {
    decide,
    async close(): Promise<void> {
      closed = true;
      pool.length = 0;
    },
  };
}
