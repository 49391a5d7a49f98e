import { describe, expect, it } from 'vitest';
import {
  covariance,
  mean,
  median,
  mode,
  pearson,
  quantile,
  rank,
  spearman,
  std,
  variance,
} from '../../src/stats/index.ts';
import { expectAllClose, expectClose, expectPValue, loadFixture } from './support.ts';

interface SampleCase {
  name: string;
  x: number[];
  mean: number;
  median: number;
  modes: number[];
  variance: number;
  variancePopulation: number;
  std: number;
  q: number[];
  quantile: number[];
}
type Alt = 'two-sided' | 'less' | 'greater';
interface PairCase {
  name: string;
  x: number[];
  y: number[];
  covariance: number;
  covariancePopulation: number;
  [alt: string]: unknown;
}

const fixture = loadFixture<{ samples: SampleCase[]; pairs: PairCase[] }>('descriptive.json');

describe('descriptive statistics agree with numpy', () => {
  for (const c of fixture.samples) {
    it(`summarises ${c.name}`, () => {
      expectClose(mean(c.x), c.mean, 'mean');
      expectClose(median(c.x), c.median, 'median');
      expect(mode(c.x)).toEqual(c.modes);
      expectClose(variance(c.x), c.variance, 'variance');
      expectClose(variance(c.x, { population: true }), c.variancePopulation, 'population variance');
      expectClose(std(c.x), c.std, 'std');
      expectAllClose(quantile(c.x, c.q), c.quantile, 'quantile');
      expectClose(quantile(new Float64Array(c.x), 0.25), c.quantile[2], 'quantile of a typed array');
    });
  }
});

describe('correlation agrees with scipy.stats', () => {
  for (const c of fixture.pairs) {
    it(`correlates ${c.name}`, () => {
      expectClose(covariance(c.x, c.y), c.covariance, 'covariance');
      expectClose(
        covariance(c.x, c.y, { population: true }),
        c.covariancePopulation,
        'population covariance',
      );
      for (const alternative of ['two-sided', 'less', 'greater'] as Alt[]) {
        const ref = c[alternative] as { pearson: number[]; pearsonCi90: number[]; spearman: number[] };
        const p = pearson(c.x, c.y, { alternative, confidence: 0.9 });
        expectClose(p.statistic, ref.pearson[0], `pearson r ${alternative}`);
        expectPValue(p.pValue, ref.pearson[1], `pearson p ${alternative}`);
        expectAllClose(p.ci!, ref.pearsonCi90, `pearson ci ${alternative}`);
        const s = spearman(c.x, c.y, { alternative });
        expectClose(s.statistic, ref.spearman[0], `spearman rho ${alternative}`);
        expectPValue(s.pValue, ref.spearman[1], `spearman p ${alternative}`);
      }
    });
  }
});

describe('edge cases', () => {
  it('lists every mode when several values tie for most frequent', () => {
    expect(mode([4, 1, 4, 1, 2])).toEqual([1, 4]);
  });

  it('ranks ties by their average rank', () => {
    expect(Array.from(rank([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
  });

  it('rejects empty samples, NaN and too-short samples with stable codes', () => {
    expect(() => mean([])).toThrow(expect.objectContaining({ code: 'CROUPIER_ERR_STATS_EMPTY_SAMPLE' }));
    expect(() => mean([1, Number.NaN])).toThrow(expect.objectContaining({ code: 'CROUPIER_ERR_STATS_NAN' }));
    expect(() => variance([3])).toThrow(expect.objectContaining({ code: 'CROUPIER_ERR_STATS_TOO_FEW' }));
    expect(variance([3], { population: true })).toBe(0);
    expect(() => covariance([1, 2], [1, 2, 3])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_LENGTH_MISMATCH' }),
    );
    expect(() => quantile([1, 2], 1.5)).toThrow(/q/);
  });

  it('refuses a correlation with a constant sample', () => {
    expect(() => pearson([1, 1, 1], [1, 2, 3])).toThrow(
      expect.objectContaining({
        code: 'CROUPIER_ERR_STATS_ZERO_VARIANCE',
        message: expect.stringMatching(/^x /),
      }),
    );
  });

  it('gives p = 0 for a perfect correlation', () => {
    expect(pearson([1, 2, 3, 4], [2, 4, 6, 8]).pValue).toBe(0);
  });
});

describe('ranking long samples', () => {
  it('ranks a long sample with ties, negatives and signed zeros exactly as a comparison sort does', () => {
    const n = 20000;
    const x = new Float64Array(n);
    let s = 12345;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      x[i] = i % 7 === 0 ? (i % 2 ? -0 : 0) : ((s % 2001) - 1000) / 8;
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
    const expected = new Float64Array(n);
    for (let i = 0; i < n; ) {
      let j = i;
      while (j + 1 < n && x[order[j + 1]] === x[order[i]]) j++;
      for (let k = i; k <= j; k++) expected[order[k]] = (i + j) / 2 + 1;
      i = j + 1;
    }
    expect(rank(x)).toEqual(expected);
  });
});
