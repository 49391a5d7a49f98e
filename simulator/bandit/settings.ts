/**
 * The engine's learning settings as the in-process runner plays them: the `model.*` knobs of the policies and
 * the stream topology's position-bias model (`stream.positionBias`), read from croupier's config, so that
 * `croupier simulate --in-process --set model.priorStrength=50` plays what a gateway with that config would.
 */
import { type Config, configSchema } from '../../src/config/index.ts';
import { examinationTable } from '../../streams/fold/position-bias.ts';
import type { DecisionSettings } from './policies.ts';

/** The decision settings of a parsed config. */
export function decisionSettingsOf(config: Pick<Config, 'model' | 'stream'>): DecisionSettings {
  const { model, stream } = config;
  return {
    priorStrength: model.priorStrength,
    correction: { strength: model.correctionStrength, explorationScale: model.explorationScale },
    epsilon: model.epsilon,
    ucbC: model.ucbC,
    examination: examinationTable(stream.positionBias),
    expectedClicks: true,
  };
}

/** The decision settings of croupier's default config. */
export function defaultDecisionSettings(): DecisionSettings {
  return decisionSettingsOf(configSchema.parse({}));
}
