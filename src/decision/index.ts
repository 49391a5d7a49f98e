/**
 * The decision core's one way in for a service: from croupier's config to a scorer (the registry's active
 * ONNX model, hot-reloaded) and a decider over it, closed together.
 */
import type { Config } from '../config/index.ts';
import type { Decision, DecisionRequest, StateView } from '../domain/decision.ts';
import type { PolicyName } from '../domain/policy-names.ts';
import { loadExperimentsConfig } from '../experiments/config.ts';
import type { Logger } from '../log/logger.ts';
import { createOnnxScorer, type Scorer } from '../scoring/onnx-scorer.ts';
import { createDecider, type Decider, type DeciderOptions } from './decider.ts';

export { createDecider, type Decider, type DeciderOptions, segmentKey } from './decider.ts';

export interface DecisionCore {
  readonly scorer: Scorer;
  readonly decider: Decider;
  decide(request: DecisionRequest, view: StateView): Promise<Decision>;
  close(): Promise<void>;
}

export interface DecisionCoreOptions {
  /** croupier's `model` config section. */
  model: Config['model'];
  /** The default policy (`gateway.policy`). */
  policy: PolicyName;
  logger: Logger;
  /** Seed of the decision generators; default: from the clock. */
  seed?: number;
  /** Called after every ONNX Runtime run: requests and rows it scored, its duration in µs (batch-size metrics). */
  onBatch?: (requests: number, rows: number, runUs: number) => void;
}

/**
 * The decider's policy settings from croupier's `model` config section: the prior, the policies' parameters,
 * Thompson sampling's tempering, the propensities' Monte Carlo settings and retrieval. Every service that
 * makes a decider takes them from here, so none leaves one out.
 */
export function policyOptionsOf(
  model: Config['model'],
): Pick<
  DeciderOptions,
  | 'priorStrength'
  | 'epsilon'
  | 'ucbC'
  | 'tempering'
  | 'propensity'
  | 'maxCandidates'
  | 'retrievalRefreshMs'
  | 'segmentDevices'
> {
  return {
    priorStrength: model.priorStrength,
    epsilon: model.epsilon,
    ucbC: model.ucbC,
    tempering: { temperature: model.thompsonTemperature, impressions: model.temperingImpressions },
    propensity: { replicates: model.propensityReplicates, delta: model.propensityDelta },
    maxCandidates: model.maxCandidates,
    retrievalRefreshMs: model.retrievalRefreshMs,
    segmentDevices: model.segmentDevices,
  };
}

/** Loads the model registry and the experiments file of `options.model` and returns the decision core. */
export async function createDecisionCore(options: DecisionCoreOptions): Promise<DecisionCore> {
  const model = options.model;
  const experiments = await loadExperimentsConfig(model.experimentsFile);
  const scorer = await createOnnxScorer({
    registryDir: model.registryDir,
    logger: options.logger,
    executionProviders: model.executionProviders,
    batching: model.batching,
    batchWaitUs: model.batchWaitUs,
    maxBatchRows: model.maxBatchRows,
    intraOpThreads: model.intraOpThreads,
    inline: model.inline,
    watch: model.watchRegistry,
    onBatch: options.onBatch,
  });
  const decider = createDecider({
    ...policyOptionsOf(model),
    scorer,
    policy: options.policy,
    experiments,
    seed: options.seed ?? Date.now() >>> 0,
    logger: options.logger,
  });
  return {
    scorer,
    decider,
    decide: (request, view) => decider.decide(request, view),
    async close(): Promise<void> {
      await decider.close();
      await scorer.close();
    },
  };
}
