import { describe, expect, it } from 'vitest';
import { betaBinomialAB } from '../../src/stats/bayes-ab.ts';
import { expectAllClose, expectClose, loadFixture } from './support.ts';

interface Case {
  name: string;
  variants: Array<{ successes: number; trials: number }>;
  prior: { alpha: number; beta: number };
  confidence: number;
  control: number;
  posteriors: Array<{
    alpha: number;
    beta: number;
    mean: number;
    ci: [number, number];
    probabilityBest: number;
    expectedLoss: number;
  }>;
  lifts: Array<{
    index: number;
    mean: number;
    median: number;
    ci: [number, number];
    probabilityPositive: number;
  }>;
}

const CASES = loadFixture<Case[]>('bayes-ab.json');

describe('betaBinomialAB agrees with scipy quadrature', () => {
  for (const c of CASES) {
    it(`${c.name}: posteriors, credible intervals, P(best), expected loss and lift posteriors`, () => {
      const got = betaBinomialAB(c.variants, {
        prior: c.prior,
        confidence: c.confidence,
        control: c.control,
      });
      expect(got.method).toBe('exact');
      c.posteriors.forEach((want, j) => {
        const v = got.variants[j];
        expect([v.alpha, v.beta]).toEqual([want.alpha, want.beta]);
        expectClose(v.mean, want.mean, `mean ${j}`);
        expectAllClose(v.ci, want.ci, `ci ${j}`);
        expectClose(v.probabilityBest, want.probabilityBest, `P(best) ${j}`);
        expectClose(v.expectedLoss, want.expectedLoss, `loss ${j}`);
      });
      expect(got.lifts).toHaveLength(c.lifts.length);
      c.lifts.forEach((want, i) => {
        const lift = got.lifts[i];
        expect(lift.name).toBe(`variant ${want.index}`);
        if (Number.isFinite(want.mean)) expectClose(lift.mean, want.mean, 'lift mean');
        else expect(lift.mean).toBe(Number.POSITIVE_INFINITY);
        expectClose(lift.median, want.median, 'lift median');
        expectAllClose(lift.ci, want.ci, 'lift ci');
        expectClose(lift.probabilityPositive, want.probabilityPositive, 'P(lift > 0)');
      });
    });
  }
});

describe('betaBinomialAB', () => {
  const variants = [
    { name: 'control', successes: 1000, trials: 100_000 },
    { name: 'bigger', successes: 1100, trials: 100_000 },
    { name: 'warmer', successes: 1050, trials: 100_000 },
  ];

  it('estimates P(best) and expected loss by seeded Monte Carlo within their standard errors', () => {
    const exact = betaBinomialAB(variants);
    const mc = betaBinomialAB(variants, { method: 'monte-carlo', draws: 100_000, seed: 9 });
    const again = betaBinomialAB(variants, { method: 'monte-carlo', draws: 100_000, seed: 9 });
    expect(again.variants).toEqual(mc.variants);
    mc.variants.forEach((v, j) => {
      const p = exact.variants[j].probabilityBest;
      expect(Math.abs(v.probabilityBest - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / 100_000) + 1e-9);
      expect(Math.abs(v.expectedLoss / exact.variants[j].expectedLoss - 1)).toBeLessThan(0.05);
    });
  });

  it('sums P(best) to 1 and gives the best variant the smallest expected loss', () => {
    const got = betaBinomialAB(variants);
    expect(got.variants.reduce((s, v) => s + v.probabilityBest, 0)).toBeCloseTo(1, 9);
    const losses = got.variants.map((v) => v.expectedLoss);
    expect(Math.min(...losses)).toBe(got.variants[1].expectedLoss);
  });

  it('rejects more successes than trials and a single variant, naming the argument', () => {
    expect(() =>
      betaBinomialAB([
        { successes: 5, trials: 4 },
        { successes: 1, trials: 4 },
      ]),
    ).toThrow(/variants\[0\]\.successes/);
    expect(() => betaBinomialAB([{ successes: 1, trials: 4 }])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_INVALID_ARGUMENT' }),
    );
  });
});
