import { describe, expect, it } from 'vitest';
import {
  adjustPValues,
  anovaOneWay,
  chiSquaredGoodnessOfFit,
  chiSquaredIndependence,
  fTestVariances,
  kruskalWallis,
  leveneTest,
  mannWhitneyU,
  normalityTest,
  pairedTTest,
  pairwiseTests,
  proportionZTest,
  studentTTest,
  tTest,
  welchTTest,
  wilcoxonSignedRank,
  zTest,
} from '../../src/stats/index.ts';
import { expectAllClose, expectClose, expectPValue, loadFixture } from './support.ts';

interface Case {
  fn: string;
  name: string;
  args: unknown[];
  options: Record<string, unknown> | null;
  expected: Record<string, unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: the fixture drives each test function with its own argument types
type AnyFn = (...args: any[]) => any;
const FUNCTIONS: Record<string, AnyFn> = {
  adjustPValues,
  anovaOneWay,
  chiSquaredGoodnessOfFit,
  chiSquaredIndependence,
  fTestVariances,
  kruskalWallis,
  leveneTest,
  mannWhitneyU,
  normalityTest,
  pairedTTest,
  pairwiseTests,
  proportionZTest,
  studentTTest,
  tTest,
  welchTTest,
  zTest,
  wilcoxonSignedRank,
};

function compare(actual: unknown, expected: unknown, label: string): void {
  if (typeof expected === 'number') {
    if (label.endsWith('pValue') || label.includes('pValues') || label.includes('adjusted')) {
      expectPValue(actual as number, expected, label);
    } else expectClose(actual as number, expected, label);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${label} is an array`).toBe(true);
    expect((actual as unknown[]).length, `${label} length`).toBe(expected.length);
    for (let i = 0; i < expected.length; i++)
      compare((actual as unknown[])[i], expected[i], `${label}[${i}]`);
  } else {
    throw new Error(`unexpected fixture value at ${label}`);
  }
}

const cases = loadFixture<Case[]>('hypothesis.json');

describe('hypothesis tests agree with scipy and statsmodels', () => {
  for (const c of cases) {
    it(c.name, () => {
      const fn = FUNCTIONS[c.fn];
      const args = c.options === null ? c.args : [...c.args, c.options];
      const result = fn(...args);
      if (c.fn === 'adjustPValues') {
        expectAllClose(result, c.expected.values as number[], 'adjusted');
        return;
      }
      if (c.fn === 'pairwiseTests') {
        compare(
          result.map((r: { result: { pValue: number } }) => r.result.pValue),
          c.expected.pValues,
          'pValues',
        );
        compare(
          result.map((r: { adjustedPValue: number }) => r.adjustedPValue),
          c.expected.adjusted,
          'adjusted',
        );
        return;
      }
      for (const [key, value] of Object.entries(c.expected)) compare(result[key], value, `${c.fn}.${key}`);
    });
  }
});

describe('hypothesis test edge cases', () => {
  it('refuses a t-test on a constant sample', () => {
    expect(() => tTest([2, 2, 2])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_ZERO_VARIANCE' }),
    );
    expect(() => welchTTest([1, 1], [3, 3])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_ZERO_VARIANCE' }),
    );
  });

  it('needs two values for a variance', () => {
    expect(() => tTest([1])).toThrow(expect.objectContaining({ code: 'CROUPIER_ERR_STATS_TOO_FEW' }));
    expect(() => welchTTest([1, 2], [3])).toThrow(/^y /);
  });

  it('rejects mismatched pairs, NaN and negative counts', () => {
    expect(() => pairedTTest([1, 2, 3], [1, 2])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_LENGTH_MISMATCH' }),
    );
    expect(() => zTest([1, Number.NaN], { sigma: 1 })).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_NAN' }),
    );
    expect(() => chiSquaredGoodnessOfFit([3, -1, 4])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_NEGATIVE_COUNT' }),
    );
    expect(() => proportionZTest([-1, 3], [10, 10])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_NEGATIVE_COUNT' }),
    );
    expect(() => proportionZTest(11, 10)).toThrow(/exceeds/);
    expect(() =>
      chiSquaredIndependence([
        [1, 0],
        [2, 0],
      ]),
    ).toThrow(/column 1/);
  });

  it('refuses bad options by name', () => {
    expect(() => tTest([1, 2, 3], { alternative: 'bigger' as never })).toThrow(/alternative/);
    expect(() => tTest([1, 2, 3], { confidence: 95 })).toThrow(/confidence/);
    expect(() => chiSquaredGoodnessOfFit([1, 2, 3], { probabilities: [0.5, 0.5, 0.5] })).toThrow(
      /sum to 1.5/,
    );
  });

  it('takes the options of a one-sample signed-rank test in second place', () => {
    const d = [0.8, -1.3, 2.1, 0.4, 1.7, 2.9, -0.2, 1.1, 3.3, 0.6];
    expect(wilcoxonSignedRank(d, { alternative: 'greater' })).toEqual(
      wilcoxonSignedRank(d, undefined, { alternative: 'greater' }),
    );
    expect(wilcoxonSignedRank(d, { alternative: 'greater' }).alternative).toBe('greater');
  });

  it('reports p = 1 at the centre of the exact signed-rank distribution', () => {
    expect(wilcoxonSignedRank([1, 2, -3, 4, -5, -6, 7]).pValue).toBe(1);
  });

  it('handles the extreme exact Mann–Whitney case (complete separation)', () => {
    const r = mannWhitneyU([10, 11, 12], [1, 2, 3], { alternative: 'greater' });
    expect(r.statistic).toBe(9);
    expect(r.pValue).toBeCloseTo(1 / 20, 14);
  });

  it('refuses rank and variance tests whose statistic is undefined because every value is equal', () => {
    const zero = expect.objectContaining({ code: 'CROUPIER_ERR_STATS_ZERO_VARIANCE' });
    expect(() =>
      kruskalWallis([
        [3, 3],
        [3, 3, 3],
      ]),
    ).toThrow(zero);
    expect(() => mannWhitneyU(new Array(10).fill(1), new Array(10).fill(1))).toThrow(zero);
    expect(() =>
      anovaOneWay([
        [1, 1],
        [2, 2],
      ]),
    ).toThrow(zero);
    expect(() => fTestVariances([1, 1, 1], [1, 2, 3])).toThrow(zero);
    expect(() => normalityTest(new Array(10).fill(4))).toThrow(zero);
    expect(() => proportionZTest([0, 0], [10, 20])).toThrow(zero);
  });

  it('names the sample that is too small', () => {
    expect(() => normalityTest([1, 2, 3, 4, 5, 6, 7])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_TOO_FEW' }),
    );
    expect(() => leveneTest([[1, 2], [3]])).toThrow(/groups\[1\]/);
    expect(() => anovaOneWay([[1, 2, 3]])).toThrow(/groups/);
    expect(() => mannWhitneyU([], [1])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_EMPTY_SAMPLE' }),
    );
  });

  it('returns tiny p-values for overwhelming evidence without underflowing to NaN', () => {
    const r = proportionZTest([5000, 1000], [10000, 10000]);
    expect(r.pValue).toBeGreaterThanOrEqual(0);
    expect(r.pValue).toBeLessThan(1e-300);
  });
});
