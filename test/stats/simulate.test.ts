import { describe, expect, it } from 'vitest';
import {
  mannWhitneyU,
  power,
  proportionZTest,
  simulateErrorRates,
  studentTTest,
  twoMeansScenario,
  twoProportionsScenario,
  welchTTest,
} from '../../src/stats/index.ts';

describe('simulated error rates confirm the analytic figures', () => {
  it('Student t-test: type I error near alpha, power near the noncentral-t power', () => {
    const design = { effectSize: 0.5, n1: 40 };
    const rates = simulateErrorRates({
      ...twoMeansScenario(design),
      test: studentTTest,
      iterations: 2000,
      seed: 11,
    });
    const analytic = power({ kind: 'means', ...design });
    expect(rates.typeIError.ci[0]).toBeLessThanOrEqual(0.05);
    expect(rates.typeIError.ci[1]).toBeGreaterThanOrEqual(0.05);
    expect(rates.power!.ci[0]).toBeLessThanOrEqual(analytic);
    expect(rates.power!.ci[1]).toBeGreaterThanOrEqual(analytic);
  });

  it('two-proportion z-test: power near the normal-approximation power', () => {
    const design = { p1: 0.15, p2: 0.1, n1: 600 };
    const rates = simulateErrorRates({
      ...twoProportionsScenario(design),
      test: (x: [number, number], n: [number, number]) => proportionZTest(x, n),
      iterations: 2000,
      seed: 5,
    });
    const analytic = power({ kind: 'proportions', ...design });
    expect(rates.typeIError.ci[0]).toBeLessThanOrEqual(0.05);
    expect(rates.typeIError.ci[1]).toBeGreaterThanOrEqual(0.05);
    expect(rates.power!.ci[0]).toBeLessThanOrEqual(analytic);
    expect(rates.power!.ci[1]).toBeGreaterThanOrEqual(analytic);
  });

  it('holds the level of Welch and Mann–Whitney tests with unequal group sizes', () => {
    const scenario = twoMeansScenario({ effectSize: 0, n1: 15, ratio: 2 });
    for (const test of [welchTTest, mannWhitneyU]) {
      const rates = simulateErrorRates({
        drawNull: scenario.drawNull,
        test,
        iterations: 1500,
        seed: 3,
        alpha: 0.1,
      });
      expect(rates.typeIError.ci[0]).toBeLessThanOrEqual(0.1);
      expect(rates.typeIError.ci[1]).toBeGreaterThanOrEqual(0.1);
      expect(rates.power).toBeUndefined();
    }
  });

  it('is reproducible from its seed', () => {
    const spec = {
      ...twoMeansScenario({ effectSize: 0.3, n1: 20 }),
      test: welchTTest,
      iterations: 200,
      seed: 9,
    };
    expect(simulateErrorRates(spec)).toEqual(simulateErrorRates(spec));
  });

  it('names a bad setting', () => {
    expect(() =>
      simulateErrorRates<[number[]]>({
        drawNull: () => [[1, 2]],
        test: () => ({ pValue: 1 }),
        iterations: 0,
      }),
    ).toThrow(/iterations/);
  });
});
