import { describe, expect, it } from 'vitest';
import {
  bernoulli,
  beta,
  binomial,
  type ContinuousDistribution,
  chiSquared,
  type DiscreteDistribution,
  exponential,
  fisherF,
  gamma,
  geometric,
  normal,
  poisson,
  studentT,
  uniform,
} from '../../src/stats/distributions/index.ts';
import { createRng } from '../../src/stats/rng.ts';
import { expectAllClose, expectClose, loadFixture } from './support.ts';

interface Case {
  dist: keyof typeof FAMILIES;
  params: Record<string, number>;
  kind: 'continuous' | 'discrete';
  x: number[];
  pdf?: number[];
  pmf?: number[];
  cdf: number[];
  sf: number[];
  p: number[];
  quantile: number[];
  mean: number;
  variance: number;
}

const cases = loadFixture<Case[]>('distributions.json');
type AnyDistribution = ContinuousDistribution & DiscreteDistribution;
const FAMILIES = {
  bernoulli,
  beta,
  binomial,
  chiSquared,
  exponential,
  fisherF,
  gamma,
  geometric,
  normal,
  poisson,
  studentT,
  uniform,
};

describe('distributions agree with scipy.stats', () => {
  for (const c of cases) {
    it(`${c.dist}(${JSON.stringify(c.params)})`, () => {
      const d = (FAMILIES[c.dist] as (p: Record<string, number>) => AnyDistribution)(c.params);
      const label = `${c.dist}${JSON.stringify(c.params)}`;
      const density = c.kind === 'continuous' ? c.x.map((x) => d.pdf(x)) : c.x.map((k) => d.pmf(k));
      expectAllClose(density, (c.pdf ?? c.pmf)!, `${label}.density`);
      expectAllClose(
        c.x.map((x) => d.cdf(x)),
        c.cdf,
        `${label}.cdf`,
      );
      expectAllClose(
        c.x.map((x) => d.sf(x)),
        c.sf,
        `${label}.sf`,
      );
      expectAllClose(
        c.p.map((p) => d.quantile(p)),
        c.quantile,
        `${label}.quantile`,
        1e-6,
        1e-15, // the median of t is 0; scipy reports rounding noise around 1e-17 there
      );
      // Moments that do not exist (t with df ≤ 2, F with df2 ≤ 4): scipy says inf where croupier may say NaN.
      for (const m of ['mean', 'variance'] as const) {
        if (Number.isFinite(c[m])) expectClose(d[m], c[m], `${label}.${m}`);
        else expect(Number.isFinite(d[m]), `${label}.${m}`).toBe(false);
      }
    });
  }
});

describe('sampling', () => {
  it('draws reproducibly from a seed and matches the moments', () => {
    const families = [
      normal({ mean: 2, sd: 3 }),
      gamma({ shape: 2.5, scale: 2 }),
      beta({ alpha: 2, beta: 3 }),
      studentT({ df: 10 }),
      chiSquared({ df: 4 }),
      fisherF({ df1: 5, df2: 20 }),
      exponential({ rate: 3 }),
      uniform({ min: 1, max: 2 }),
      binomial({ n: 1000, p: 0.3 }),
      binomial({ n: 12, p: 0.5 }),
      poisson({ lambda: 3.2 }),
      poisson({ lambda: 400 }),
      geometric({ p: 0.25 }),
      bernoulli({ p: 0.7 }),
    ];
    for (const d of families) {
      const a = createRng(7);
      const b = createRng(7);
      const n = 20000;
      let sum = 0;
      let sumSq = 0;
      let mismatches = 0;
      for (let i = 0; i < n; i++) {
        const x = d.sample(a);
        if (x !== d.sample(b)) mismatches++;
        sum += x;
        sumSq += x * x;
      }
      expect(mismatches).toBe(0);
      const m = sum / n;
      const v = sumSq / n - m * m;
      // Five standard errors of the mean: fails by chance with probability < 1e-6 (and the seed is fixed).
      expect(Math.abs(m - d.mean)).toBeLessThan(5 * Math.sqrt(d.variance / n));
      expect(Math.abs(v - d.variance) / d.variance).toBeLessThan(0.1);
    }
  });
});

describe('parameter checks', () => {
  it('rejects non-positive scale parameters with the argument named', () => {
    expect(() => normal({ sd: 0 })).toThrow(/sd/);
    expect(() => gamma({ shape: -1 })).toThrow(/shape/);
    expect(() => binomial({ n: 2.5, p: 0.5 })).toThrow(/n/);
    expect(() => bernoulli({ p: 1.5 })).toThrow(/p/);
    expect(() => studentT({ df: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_NAN' }),
    );
    expect(() => uniform({ min: 2, max: 1 })).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_INVALID_ARGUMENT' }),
    );
  });
});
