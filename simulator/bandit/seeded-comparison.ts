/**
 * Policies compared over several seeds of one scenario, in process: a claim about learning holds across
 * seeds, never on one run. Each seed is a full `runInProcess` (every policy faces the same world); the
 * comparison keeps each policy's regret and the oracle's expected clicks per seed, and their sums.
 */
import { totals } from '../report/series.ts';
import type { Scenario } from '../world/scenario.ts';
import type { SimPolicyName } from './policies.ts';
import { type Contender, type InProcessOptions, runInProcess } from './runner.ts';

export interface SeededComparison {
  scenario: string;
  seeds: readonly number[];
  /** Expected clicks lost to the oracle, per policy, one entry per seed. */
  regret: Record<string, number[]>;
  /** The oracle's expected clicks per seed (the same for every policy). */
  oracle: number[];
}

/** The seeds a comparison uses by default: the scenario's own and two more fixed ones, chosen beforehand. */
export function comparisonSeeds(scenario: Scenario): number[] {
  return [scenario.seed, scenario.seed + 1000, scenario.seed + 2000];
}

export function compareOverSeeds(
  scenario: Scenario,
  policies: readonly (SimPolicyName | Contender)[],
  seeds: readonly number[] = comparisonSeeds(scenario),
  options: Omit<InProcessOptions, 'scenario' | 'policies' | 'seed'> = {},
): SeededComparison {
  const regret: Record<string, number[]> = {};
  const oracle: number[] = [];
  for (const seed of seeds) {
    const report = runInProcess({ ...options, scenario, policies, seed });
    for (const series of report.series) {
      const perSeed = regret[series.label] ?? [];
      regret[series.label] = perSeed;
      perSeed.push(totals(series).regret);
      if (oracle.length < perSeed.length) {
        oracle.push(series.buckets.reduce((a, b) => a + b.oracleClicks, 0));
      }
    }
  }
  return { scenario: scenario.name, seeds, regret, oracle };
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** Regret over all seeds as a share of the oracle's expected clicks over all seeds. */
export function regretShare(comparison: SeededComparison, policy: string): number {
  return sum(comparison.regret[policy]) / sum(comparison.oracle);
}

/** The policy of least total regret among `among`, and that total. */
export function bestOf(
  comparison: SeededComparison,
  among: readonly string[],
): { policy: string; regret: number } {
  let best = { policy: among[0], regret: Number.POSITIVE_INFINITY };
  for (const policy of among) {
    const total = sum(comparison.regret[policy]);
    if (total < best.regret) best = { policy, regret: total };
  }
  return best;
}

/** Total regret of `policy` over the best total of `among` (1: as good as the best). */
export function ratioToBest(comparison: SeededComparison, policy: string, among: readonly string[]): number {
  return sum(comparison.regret[policy]) / bestOf(comparison, among).regret;
}
