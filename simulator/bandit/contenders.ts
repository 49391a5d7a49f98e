/**
 * What the regret tables and tests compare: croupier's default policy (the gateway's `gateway.policy` with the
 * engine's default `model.*` settings) against the baselines the README names (Thompson sampling untempered,
 * greedy, ε-greedy, UCB1, uniform random), each under one of the two ways the stream topology can count
 * impressions (`stream.positionBias`: raw, or examination-weighted). All of them read the engine's defaults
 * from the config schema, so a changed default shows in the tables and tests without editing them.
 */
import { type Tempering, UNTEMPERED } from '../../src/bandit/posterior.ts';
import { gatewaySchema, modelSchema, streamSchema } from '../../src/config/schema.ts';
import { examinationTable } from '../../streams/fold/position-bias.ts';
import type { Scenario } from '../world/scenario.ts';
import type { SimPolicyName } from './policies.ts';
import type { Contender, PolicySettings } from './runner.ts';

/** The label of croupier's default policy in tables and reports. */
export const DEFAULT_LABEL = 'croupier default';

/** How the counts are kept: raw impressions, or weighted by the position-bias model's examination curve. */
export type Counting = 'raw' | 'examination';

const model = modelSchema.parse({});
const positionBias = streamSchema.parse({}).positionBias;

/** The gateway's default policy. */
export const DEFAULT_POLICY: SimPolicyName = gatewaySchema.parse({}).policy;

/** The engine's default tempering of Thompson sampling. */
export const DEFAULT_TEMPERING: Tempering = {
  temperature: model.thompsonTemperature,
  impressions: model.temperingImpressions,
};

/** The counting `stream.positionBias` gives by default. */
export const DEFAULT_COUNTING: Counting = positionBias.enabled ? 'examination' : 'raw';

/** The engine's default settings, with the counts kept as `counting` says (its default examination curve). */
export function engineSettings(counting: Counting): PolicySettings {
  const examination = examinationTable({ ...positionBias, enabled: true });
  return {
    priorStrength: model.priorStrength,
    epsilon: model.epsilon,
    ucbC: model.ucbC,
    tempering: DEFAULT_TEMPERING,
    ...(counting === 'examination' && examination !== undefined ? { examination } : {}),
  };
}

/** The baselines the default policy must match: the list, Thompson sampling as it was (untempered). */
export const BASELINES = ['thompson τ=1', 'greedy', 'epsilon-greedy', 'ucb1', 'random'] as const;

/** croupier's default policy and every baseline, all with the engine's default settings and `counting`. */
export function contenders(counting: Counting, baselines: readonly string[] = BASELINES): Contender[] {
  const settings = engineSettings(counting);
  const out: Contender[] = [{ label: DEFAULT_LABEL, policy: DEFAULT_POLICY, settings }];
  for (const label of baselines) {
    if (label === 'thompson τ=1') {
      out.push({ label, policy: 'thompson', settings: { ...settings, tempering: UNTEMPERED } });
    } else {
      out.push({ label, policy: label as SimPolicyName, settings });
    }
  }
  return out;
}

/**
 * Seeds tuned on (the scenario's own, +1000, …, +5000): the default's settings were chosen on these (and on
 * the +500, +1500, …, +5500 between them in the one-hour worlds).
 */
export function tuningSeeds(scenario: Scenario): number[] {
  return [0, 1000, 2000, 3000, 4000, 5000].map((offset) => scenario.seed + offset);
}

/** Seeds held out (+7000, +8000, +9000), fixed before any result on them was seen: the claims rest on these. */
export function heldOutSeeds(scenario: Scenario): number[] {
  return [scenario.seed + 7000, scenario.seed + 8000, scenario.seed + 9000];
}

/**
 * A second held-out set (+10000, +11000, +12000), fixed before the current default's settings were chosen and
 * looked at only once they were: a check that the held-out result is not itself a lucky draw of three seeds.
 */
export function freshSeeds(scenario: Scenario): number[] {
  return [scenario.seed + 10_000, scenario.seed + 11_000, scenario.seed + 12_000];
}

/**
 * A third held-out set, six seeds (+13000, …, +18000), fixed before any result on it was seen and after every
 * setting of the default was chosen: the two sets above had been looked at while candidates were compared, and
 * three seeds cannot resolve a 2 % margin. A world longer than two simulated hours (steady-state, eight) plays
 * the first three. The regret test and the README's current table rest on these.
 */
export function thirdSeeds(scenario: Scenario): number[] {
  return sixSeedsFrom(scenario, 13_000);
}

/** Six seeds, `first`, `first` + 1000, …, after the scenario's own; the first three in a world over two hours. */
function sixSeedsFrom(scenario: Scenario, first: number): number[] {
  const seeds = Array.from({ length: 6 }, (_, i) => scenario.seed + first + 1000 * i);
  const long = scenario.kind === 'world' && scenario.durationSeconds > 7200;
  return long ? seeds.slice(0, 3) : seeds;
}

/**
 * A fourth held-out set, six seeds (+19000, …, +24000), fixed before any result on it was seen, after the third
 * had been looked at (steady-state, eight simulated hours per run, plays the first three). Run once, on the
 * default and the baselines that come close, after a round of candidates on the tuning seeds in which none was
 * adopted (README, Regret).
 */
export function fourthSeeds(scenario: Scenario): number[] {
  return sixSeedsFrom(scenario, 19_000);
}

/**
 * A fifth held-out set, six seeds (+25000, …, +30000), fixed before any result on it was seen and not yet run:
 * kept for the next change to the default's settings (steady-state plays the first three).
 */
export function fifthSeeds(scenario: Scenario): number[] {
  return sixSeedsFrom(scenario, 25_000);
}
