import { describe, expect, it } from 'vitest';
import {
  bestOf,
  compareOverSeeds,
  comparisonSeeds,
  ratioToBest,
  regretShare,
} from '../../simulator/bandit/seeded-comparison.ts';
import { loadScenario } from '../../simulator/world/scenario.ts';

describe('policies compared over seeds', () => {
  it('sums regret and oracle clicks per seed, names the best policy and the ratio to it, reproducibly', () => {
    const scenario = loadScenario('cold-start');
    expect(comparisonSeeds(scenario)).toEqual([11, 1011, 2011]);
    const run = () => compareOverSeeds(scenario, ['greedy', 'random'], [3, 4, 5], { durationSeconds: 300 });
    const comparison = run();
    expect(comparison.regret.greedy).toHaveLength(3);
    expect(comparison.oracle).toHaveLength(3);
    // Another seed is another world: the three runs differ.
    expect(new Set(comparison.oracle).size).toBe(3);
    expect(bestOf(comparison, ['greedy', 'random']).policy).toBe('greedy');
    expect(ratioToBest(comparison, 'greedy', ['greedy', 'random'])).toBe(1);
    // Uniform random loses most of the oracle's clicks; a policy that uses the model loses far less.
    expect(ratioToBest(comparison, 'random', ['greedy', 'random'])).toBeGreaterThan(3);
    expect(regretShare(comparison, 'random')).toBeGreaterThan(0.5);
    expect(regretShare(comparison, 'greedy')).toBeLessThan(0.3);
    expect(run()).toEqual(comparison);
  });
});
