import { describe, expect, it } from 'vitest';
import { type Alternative, minimumDetectableEffect, power, sampleSize } from '../../src/stats/index.ts';
import { noncentralTCdf, noncentralTSf } from '../../src/stats/noncentral-t.ts';
import { expectClose, expectPValue, loadFixture } from './support.ts';

interface Fixture {
  noncentralT: { t: number; df: number; delta: number; cdf: number; sf: number }[];
  proportions: {
    p1: number;
    p2: number;
    n1: number;
    ratio: number;
    alpha: number;
    alternative: Alternative;
    power: number;
    n1Exact: number;
    mde: number;
  }[];
  means: {
    effectSize: number;
    n1: number;
    ratio: number;
    alpha: number;
    alternative: Alternative;
    power: number;
    n1Exact: number;
    mde: number;
  }[];
}

const fixture = loadFixture<Fixture>('power.json');

describe('power analysis agrees with statsmodels', () => {
  it('computes the noncentral t distribution as scipy does', () => {
    for (const c of fixture.noncentralT) {
      const label = `nct(${c.t}; ${c.df}, ${c.delta})`;
      expectPValue(noncentralTCdf(c.t, c.df, c.delta), c.cdf, `${label}.cdf`);
      expectPValue(noncentralTSf(c.t, c.df, c.delta), c.sf, `${label}.sf`);
    }
  });

  for (const c of fixture.proportions) {
    it(`two proportions ${c.p1} vs ${c.p2}, n1=${c.n1}, ratio ${c.ratio}, ${c.alternative}`, () => {
      const design = { kind: 'proportions', ...c } as const;
      expectClose(power(design), c.power, 'power');
      const size = sampleSize({ ...design, power: 0.8 });
      expectClose(size.n1Exact, c.n1Exact, 'n1Exact');
      expect(size.n1).toBe(Math.ceil(c.n1Exact));
      expect(size.achievedPower).toBeGreaterThanOrEqual(0.8);
      const mde = minimumDetectableEffect({ ...design, power: 0.8 });
      expectClose(mde.difference, c.mde, 'minimum detectable effect');
      expectClose(mde.p1!, c.p2 + c.mde, 'p1 at the minimum detectable effect');
    });
  }

  for (const c of fixture.means) {
    it(`two means d=${c.effectSize}, n1=${c.n1}, ratio ${c.ratio}, ${c.alternative}`, () => {
      const design = { kind: 'means', ...c } as const;
      expectClose(power(design), c.power, 'power');
      expectClose(sampleSize({ ...design, power: 0.8 }).n1Exact, c.n1Exact, 'n1Exact');
      const mde = minimumDetectableEffect({ ...design, power: 0.8, sd: 2 });
      expectClose(mde.effectSize!, c.mde, 'minimum detectable effect size');
      expectClose(mde.difference, 2 * c.mde, 'minimum detectable difference in units of sd');
    });
  }
});

describe('power analysis input checks', () => {
  it('accepts an effect given as a difference and a standard deviation', () => {
    const a = power({ kind: 'means', difference: 1, sd: 2, n1: 50 });
    const b = power({ kind: 'means', effectSize: 0.5, n1: 50 });
    expect(a).toBe(b);
  });

  it('refuses designs with no effect or bad parameters by name', () => {
    expect(() => sampleSize({ kind: 'proportions', p1: 0.1, p2: 0.1 })).toThrow(/p1/);
    expect(() => power({ kind: 'proportions', p1: 1.2, p2: 0.1, n1: 10 })).toThrow(/p1/);
    expect(() => power({ kind: 'means', n1: 10 })).toThrow(/effectSize/);
    expect(() => power({ kind: 'means', effectSize: 0.2, n1: 10, alpha: 0 })).toThrow(/alpha/);
  });

  it('refuses a one-sided target in the wrong direction', () => {
    expect(() => sampleSize({ kind: 'proportions', p1: 0.1, p2: 0.12, alternative: 'greater' })).toThrow(
      /out of reach/,
    );
  });
});
