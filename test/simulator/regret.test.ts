import { describe, expect, it } from 'vitest';
import { contenders, DEFAULT_LABEL, heldOutSeeds } from '../../simulator/bandit/contenders.ts';
import { laiRobbinsConstant, runInProcess, runKArmed } from '../../simulator/bandit/runner.ts';
import { cumulativeRegret, totals } from '../../simulator/report/series.ts';
import { loadScenario } from '../../simulator/world/scenario.ts';

describe('the default policy in the K-armed bandit (held-out seeds)', () => {
  it('keeps its regret under half the Lai–Robbins bound at 10⁵ pulls and growing like ln T on every seed', () => {
    const scenario = loadScenario('k-armed');
    if (scenario.kind !== 'k-armed') throw new Error('k-armed scenario expected');
    const constant = laiRobbinsConstant(scenario.arms);
    expect(constant).toBeGreaterThan(0);
    for (const seed of heldOutSeeds(scenario)) {
      const curve = runKArmed({
        arms: scenario.arms,
        policies: contenders('raw', ['random']),
        pulls: 100_000,
        seed,
        checkpoints: [10_000, 100_000],
      });
      const [at4, at5] = curve.regret[DEFAULT_LABEL];
      expect(at5 / curve.bound[1]).toBeLessThan(0.5);
      // From 10⁴ to 10⁵ pulls, logarithmic regret grows by ln(10⁵)/ln(10⁴) = 1.25; linear regret by 10.
      expect(at5 / at4).toBeLessThan(2);
      // A policy that never learns has linear regret: the same check fails for it.
      const [random4, random5] = curve.regret.random;
      expect(random5 / random4).toBeGreaterThan(8);
    }
  });
});

describe('regret series of one seeded run', () => {
  it('sum to the totals and reproduce exactly from the seed', () => {
    const scenario = loadScenario('cold-start');
    const run = () =>
      runInProcess({ scenario, policies: contenders('examination', ['greedy']), durationSeconds: 600 });
    const report = run();
    for (const series of report.series) {
      expect(cumulativeRegret(series).at(-1)).toBeCloseTo(totals(series).regret, 6);
    }
    expect(run()).toEqual(report);
  });
});
