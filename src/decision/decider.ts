/**
 * The decision core: from a request and a view of the learned state to a carousel.
 *
 *   candidates (live pool, request filters) → features (float32 matrix, the feature spec's order)
 *   → score (ONNX, micro-batched) → explore (posteriors with the model-informed prior, the policy's slate)
 *   → propensities → Decision (+ the shadow policy's slate and its probabilities of the shown slate, logged,
 *   never shown)
 *
 * Everything but the scoring await runs synchronously on buffers the decider reuses; the candidate list of a
 * request lives in a pooled scratch that survives the await. The steps have their own files: candidates.ts,
 * explore.ts (around src/bandit's explorer), shadow-slate.ts.
 */
import { performance } from 'node:perf_hooks';
import { SlateExplorer } from '../bandit/explorer.ts';
import type { PolicyParams } from '../bandit/policies.ts';
import type { Tempering } from '../bandit/posterior.ts';
import type { MonteCarloSettings, PropensityMethod } from '../bandit/propensity.ts';
import type { Decision, DecisionRequest, ItemInfo, StateView } from '../domain/decision.ts';
import { DEFAULT_SEGMENT_DEVICES, OTHER_DEVICE } from '../domain/limits.ts';
import type { PolicyName } from '../domain/policy-names.ts';
import { CroupierError } from '../errors/index.ts';
import { type Assignment, ExperimentAssigner } from '../experiments/assign.ts';
import { type ExperimentsConfig, NO_EXPERIMENTS } from '../experiments/config.ts';
import type { Logger } from '../log/logger.ts';
import { FeatureAssembler } from '../scoring/features.ts';
import type { Scorer } from '../scoring/onnx-scorer.ts';
import { createRng } from '../stats/rng.ts';
import { CandidateLog, type CandidateLogOptions } from './candidate-log.ts';
import { DeferredPropensities } from './deferred-propensities.ts';
import { loadArmCounts, shownRows, slateItems } from './explore.ts';
import type { PropensityOffload } from './propensity-offload.ts';
import { CandidateRetrieval } from './retrieval.ts';
import { ShadowSlate } from './shadow-slate.ts';

export interface DeciderOptions {
  /** Scores feature matrices; its feature spec decides the matrix layout. */
  scorer: Pick<Scorer, 'spec' | 'model' | 'score'>;
  /** Default policy (experiments may override it per variant). */
  policy: PolicyName;
  /** Strength m of the model-informed Beta prior. */
  priorStrength: number;
  /** Tempering of Thompson sampling's posteriors (`src/bandit/posterior.ts`). Default: none. */
  tempering?: Tempering;
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
  /**
   * Leave Thompson sampling's propensities (integrated numerically, see docs/decision.md) out of `decide` and
   * compute them in `completePropensities`, which a caller runs once the reply is on its way. Until then the
   * items' `propensity` is NaN and `decision.propensity` is absent. Default false.
   */
  deferPropensities?: boolean;
  /**
   * Where `completePropensitiesThen` integrates deferred propensities: a thread shared by every decider of the
   * process (propensity-offload.ts). Without it they are integrated on the calling thread.
   */
  propensityOffload?: PropensityOffload;
  /** Log the candidate set of a sampled share of decisions (`log.candidateSampleRate`); default none. */
  candidateLog?: CandidateLogOptions;
  /** Most slots a request may ask for. Default 100. */
  maxSlots?: number;
  /** Devices whose posteriors are kept apart; any other counts as `other`. Default DEFAULT_SEGMENT_DEVICES. */
  segmentDevices?: readonly string[];
  /** Clock (ms since epoch) for item ages. Default `Date.now`. */
  now?: () => number;
  /**
   * Most candidates one decision scores: past it, retrieval keeps those with the highest optimistic CTR of
   * their own arm (retrieval.ts). Default 500.
   */
  maxCandidates?: number;
  /** How long a retrieval ranking is reused, ms. Default 1000. */
  retrievalRefreshMs?: number;
}

export interface Decider {
  decide(request: DecisionRequest, view: StateView): Promise<Decision>;
  /**
   * Fills the propensities of a decision whose computation `deferPropensities` left for later (items'
   * `propensity`, `decision.propensity`, `timings.propensityUs`); does nothing for any other decision.
   */
  completePropensities(decision: Decision): void;
  /**
   * Like `completePropensities`, then `done`: on the propensity thread when the decider has one (`done` runs
   * later), else at once. For a decision with nothing deferred, `done` runs at once. When the decision logs its
   * candidate set and there is a shadow model, `done` also waits for the shadow model's scores of the set.
   */
  completePropensitiesThen(decision: Decision, done: () => void): void;
  /**
   * Scores the decision's logged candidate set with the shadow model (`candidateLog.shadowModel`), once; resolves
   * at once when there is nothing to score. For a reply that carries the candidate set.
   */
  scoreCandidates(decision: Decision): Promise<void>;
  close(): Promise<void>;
}

/**
 * Segment key of the posteriors: `${device ?? 'unknown'}|${userSegment ?? 'unknown'}`, a device not in `devices`
 * (when given) counting as `other`.
 */
export function segmentKey(
  device: string | null | undefined,
  userSegment: string | null | undefined,
  devices?: ReadonlySet<string>,
): string {
  const counted = device ?? 'unknown';
  const listed = device === null || device === undefined || devices === undefined || devices.has(device);
  return `${listed ? counted : OTHER_DEVICE}|${userSegment ?? 'unknown'}`;
}

interface Scratch {
  candidates: ItemInfo[];
}

const US_PER_MS = 1000;

function micros(from: number, to: number): number {
  return Math.round((to - from) * US_PER_MS * 10) / 10;
}

/** The Monte Carlo settings of the options, refused with what was wrong. */
function monteCarloOf(options: DeciderOptions): MonteCarloSettings {
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
  return { replicates, delta, floor: options.propensity?.floor, pruneMass: options.propensity?.pruneMass };
}

function checkSlots(request: DecisionRequest, maxSlots: number): void {
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
}

export function createDecider(options: DeciderOptions): Decider {
  const monteCarlo = monteCarloOf(options);
  const seed = options.seed ?? 1;
  const scorer = options.scorer;
  const assembler = new FeatureAssembler(scorer.spec);
  const explorer = new SlateExplorer(monteCarlo);
  const deferred =
    options.deferPropensities === true
      ? new DeferredPropensities(monteCarlo.floor, options.propensityOffload)
      : null;
  const shadowSlate = new ShadowSlate(seed, monteCarlo);
  const candidateLog =
    options.candidateLog === undefined ? null : new CandidateLog(options.candidateLog, seed, options.logger);
  const assigner = new ExperimentAssigner(options.experiments ?? NO_EXPERIMENTS);
  const rng = createRng(seed);
  const monteCarloRng = createRng((seed ^ 0x27d4eb2f) >>> 0);
  const defaults: PolicyParams = { epsilon: options.epsilon ?? 0.1, ucbC: options.ucbC ?? 1 };
  const paramsOf = (assignment: Assignment): PolicyParams =>
    assignment.epsilon === undefined && assignment.ucbC === undefined
      ? defaults
      : { epsilon: assignment.epsilon ?? defaults.epsilon, ucbC: assignment.ucbC ?? defaults.ucbC };
  const maxSlots = options.maxSlots ?? 100;
  const now = options.now ?? Date.now;
  const retrieval = new CandidateRetrieval({
    maxCandidates: options.maxCandidates ?? 500,
    refreshMs: options.retrievalRefreshMs ?? 1000,
  });
  const pool: Scratch[] = [];
  let closed = false;
  const segmentDevices = new Set(options.segmentDevices ?? DEFAULT_SEGMENT_DEVICES);

  async function decide(request: DecisionRequest, view: StateView): Promise<Decision> {
    if (closed) throw new CroupierError('CROUPIER_ERR_DECISION_INVALID', 'the decider is closed', {});
    checkSlots(request, maxSlots);
    const t0 = performance.now();
    const scratch = pool.pop() ?? { candidates: [] };
    try {
      // candidates → features
      const candidates = scratch.candidates;
      const user = view.user(request.userId);
      const segment = segmentKey(request.context.device, user?.segment, segmentDevices);
      const n = retrieval.candidates(view, request.filters?.category, segment, now(), candidates);
      const assignment = assigner.assign(request.userId);
      const policy = assignment.policy ?? options.policy;
      const priorStrength = assignment.priorStrength ?? options.priorStrength;
      const matrix = assembler.assemble(view, candidates, n, user, request.context, now());
      const t1 = performance.now();
      // score
      const { scores, rows, modelVersion } = await scorer.score(matrix, n, request.userId);
      const t2 = performance.now();
      // explore: posteriors with the model-informed prior, the policy's slate, its propensities
      loadArmCounts(explorer, view, candidates, n, segment);
      explorer.preparePosteriors(scores, priorStrength, n, options.tempering);
      const params = paramsOf(assignment);
      const count = explorer.rank(policy, n, request.slots, params, rng);
      const t3 = performance.now();
      const defer = deferred !== null && policy === 'thompson';
      const method: PropensityMethod | null = defer
        ? null
        : explorer.computePropensities(policy, n, count, params, monteCarloRng);
      const items = slateItems(explorer, candidates, scores, count);
      if (defer) for (const item of items) item.propensity = Number.NaN;
      const features = shownRows(explorer, rows, assembler.width, count);
      const t4 = performance.now();
      const shadow: Decision['shadow'] =
        assignment.shadow !== null && n > 0
          ? shadowSlate.deal(
              explorer,
              assignment.shadow,
              candidates,
              scores,
              n,
              count,
              request.slots,
              params,
              monteCarloRng,
            )
          : null;
      const t5 = performance.now();
      // log: everything the event log and off-policy evaluation need
      const decision: Decision = {
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
        propensity: method === null ? undefined : { ...method },
        assignments: assignment.layers.length > 0 ? assignment.layers.map((a) => ({ ...a })) : undefined,
        features,
        featureSpecHash: scorer.model.featureSpecHash,
      };
      if (defer) deferred.hold(decision, explorer.alpha, explorer.beta, n, explorer.order, count);
      // A copy for the sampled share that logs its candidate set, turned into the record after the reply.
      candidateLog?.hold(
        decision,
        candidates,
        n,
        scores,
        rows,
        assembler.width,
        explorer.impressions,
        explorer.clicks,
        { priorStrength, tempering: options.tempering, epsilon: params.epsilon, ucbC: params.ucbC },
      );
      return decision;
    } finally {
      pool.push(scratch);
    }
  }

  return {
    decide,
    completePropensities(decision: Decision): void {
      deferred?.complete(decision);
    },
    completePropensitiesThen(decision: Decision, done: () => void): void {
      // The shadow model scores the logged candidate set meanwhile; `done` waits for both.
      const shadow = candidateLog?.scoreShadow(decision) ?? null;
      const then = shadow === null ? done : () => void shadow.then(done);
      if (deferred === null) then();
      else deferred.completeThen(decision, then);
    },
    scoreCandidates(decision: Decision): Promise<void> {
      return candidateLog?.scoreShadow(decision) ?? Promise.resolve();
    },
    async close(): Promise<void> {
      closed = true;
      pool.length = 0;
    },
  };
}
