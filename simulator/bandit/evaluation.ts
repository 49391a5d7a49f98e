/**
 * Policies compared over several seeds: what `npm run bench:policies` prints and the seeded ordering tests
 * assert. A case is a scenario (possibly run longer or with part of its world changed); each seed plays every
 * policy through the same world (runner.ts), and a case's figure per policy is its regret summed over the
 * seeds divided by the oracle's expected clicks summed over the seeds.
 *
 * The default policy is measured against the baselines the engine offers besides it — greedy, ε-greedy,
 * UCB1, uniform random and Thompson sampling over Beta posteriors — by the ratio of its summed regret to the
 * best baseline's (< 1: it wins), and seed by seed. `corrected-greedy` is an ablation, not a baseline: the
 * default's own posterior without exploration, which tells whether the exploration pays.
 */
import type { PolicyName } from '../../src/domain/policy-names.ts';
import { cumulativeRegret, totals } from '../report/series.ts';
import { loadScenario, parseScenario, type Scenario } from '../world/scenario.ts';
import type { DecisionSettings, SimPolicyName } from './policies.ts';
import { runInProcess } from './runner.ts';

export interface EvaluationCase {
  /** Name in tables and JSON (the scenario's, or e.g. `cold-start-4h`). */
  name: string;
  /** A shipped scenario name. */
  scenario: string;
  /** Simulated seconds (default: the scenario's duration). */
  durationSeconds?: number;
  /** Changes to the scenario's world, merged into its JSON (e.g. `{ model: { personalization: 0 } }`). */
  world?: Record<string, unknown>;
}

/** The baselines of the default policy (the list: everything the engine offers besides it). */
export const BASELINES: readonly PolicyName[] = ['thompson', 'greedy', 'epsilon-greedy', 'ucb1', 'random'];

export interface SeedResult {
  seed: number;
  /** The oracle's expected clicks. */
  oracle: number;
  /** Cumulative regret per policy. */
  regret: Record<string, number>;
  /** Cumulative regret at the end of each report bucket, per policy. */
  curves: Record<string, number[]>;
  /** Width of a report bucket, simulated seconds. */
  bucketSeconds: number;
}

export interface CaseSummary {
  name: string;
  seeds: number[];
  /** Σ regret / Σ oracle expected clicks over the seeds, per policy. */
  share: Record<string, number>;
  /** The baseline of least summed regret. */
  bestBaseline: string;
  /** The default's summed regret over the best baseline's. */
  ratio: number;
  /** Per seed: the default's regret over the best baseline's on that seed. */
  seedRatios: number[];
  /** The default's summed regret over `corrected-greedy`'s (absent when it was not played). */
  ablationRatio?: number;
}

function merge(base: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(patch)) out[key] = merge(out[key], value);
  return out;
}

/** The case's scenario, with its world changes applied and validated. */
export function caseScenario(c: EvaluationCase): Scenario {
  const scenario = loadScenario(c.scenario);
  return c.world === undefined ? scenario : parseScenario(merge(scenario, c.world), `${c.name} (changed)`);
}

/** Plays `policies` through one seed of a case. */
export function evaluateSeed(
  c: EvaluationCase,
  seed: number,
  policies: readonly SimPolicyName[],
  settings: DecisionSettings,
): SeedResult {
  const report = runInProcess({
    scenario: caseScenario(c),
    policies,
    seed,
    settings,
    ...(c.durationSeconds !== undefined ? { durationSeconds: c.durationSeconds } : {}),
  });
  const regret: Record<string, number> = {};
  const curves: Record<string, number[]> = {};
  let oracle = 0;
  for (const series of report.series) {
    regret[series.label] = totals(series).regret;
    curves[series.label] = cumulativeRegret(series);
    oracle = series.buckets.reduce((sum, b) => sum + b.oracleClicks, 0);
  }
  return { seed, oracle, regret, curves, bucketSeconds: report.bucketSeconds };
}

/** The case's figures over its seeds: shares, the default against the best baseline, the ablation. */
export function summarise(
  name: string,
  results: readonly SeedResult[],
  defaultPolicy: SimPolicyName,
  baselines: readonly SimPolicyName[] = BASELINES,
): CaseSummary {
  const policies = Object.keys(results[0].regret);
  const sum = (policy: string) => results.reduce((s, r) => s + r.regret[policy], 0);
  const oracle = results.reduce((s, r) => s + r.oracle, 0);
  const share = Object.fromEntries(policies.map((p) => [p, sum(p) / oracle]));
  const played = baselines.filter((b) => b !== defaultPolicy && policies.includes(b));
  const bestBaseline = played.reduce((best, b) => (sum(b) < sum(best) ? b : best), played[0]);
  const seedRatios = results.map(
    (r) => r.regret[defaultPolicy] / Math.min(...played.map((b) => r.regret[b])),
  );
  return {
    name,
    seeds: results.map((r) => r.seed),
    share,
    bestBaseline,
    ratio: sum(defaultPolicy) / sum(bestBaseline),
    seedRatios,
    ...(policies.includes('corrected-greedy') && defaultPolicy !== 'corrected-greedy'
      ? { ablationRatio: sum(defaultPolicy) / sum('corrected-greedy') }
      : {}),
  };
}
