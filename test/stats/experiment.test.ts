import { describe, expect, it } from 'vitest';
import {
  cuped,
  cupedTest,
  msprtSequence,
  msprtTwoProportions,
  relativeLift,
  sampleRatioMismatch,
} from '../../src/stats/experiment.ts';
import { proportionZTest } from '../../src/stats/hypothesis/proportions.ts';
import { createRng } from '../../src/stats/rng.ts';
import { expectAllClose, expectClose, loadFixture } from './support.ts';

interface Fixture {
  srm: Array<{
    counts: number[];
    expectedShares: number[] | null;
    statistic: number;
    pValue: number;
    expected: number[];
  }>;
  lift: Array<{
    treatment: { n: number; mean: number; variance: number };
    control: { n: number; mean: number; variance: number };
    confidence: number;
    estimate: number;
    se: number;
    ci: [number, number];
  }>;
  cuped: Array<{
    name: string;
    treatment: { y: number[]; x: number[] };
    control: { y: number[]; x: number[] };
    theta: number;
    varianceReduction: number;
    statistic: number;
    pValue: number;
    df: number;
    estimate: number;
    ci: [number, number];
  }>;
  msprt: Array<{
    treatment: { successes: number; trials: number };
    control: { successes: number; trials: number };
    tau: number;
    alpha: number;
    statistic: number;
    pValue: number;
    estimate: number;
    ci: [number, number];
  }>;
}

const F = loadFixture<Fixture>('experiment.json');

describe('sampleRatioMismatch agrees with scipy.stats.chisquare', () => {
  for (const c of F.srm) {
    it(`counts ${c.counts.join('/')} against shares ${c.expectedShares?.join(':') ?? 'equal'}`, () => {
      const got = sampleRatioMismatch(c.counts, c.expectedShares ?? undefined);
      expectClose(got.statistic, c.statistic, 'chi2');
      expectClose(got.pValue, c.pValue, 'p');
      expectAllClose(got.expected, c.expected, 'expected', 1e-9);
      expect(got.mismatch).toBe(c.pValue < 0.001);
    });
  }
});

describe('relativeLift agrees with the delta-method closed form', () => {
  for (const c of F.lift) {
    it(`treatment mean ${c.treatment.mean} over control mean ${c.control.mean}`, () => {
      const got = relativeLift(c.treatment, c.control, { confidence: c.confidence });
      expectClose(got.estimate, c.estimate, 'lift');
      expectClose(got.se, c.se, 'se');
      expectAllClose(got.ci, c.ci, 'ci');
    });
  }

  it('refuses a control mean of 0', () => {
    expect(() => relativeLift({ n: 10, mean: 1, variance: 1 }, { n: 10, mean: 0, variance: 1 })).toThrow(
      /control\.mean/,
    );
  });
});

describe('CUPED agrees with numpy and scipy', () => {
  for (const c of F.cuped) {
    it(`${c.name}: pooled θ, variance reduction and the Welch test on adjusted outcomes`, () => {
      const got = cupedTest(c.treatment, c.control);
      expectClose(got.theta, c.theta, 'theta');
      expectClose(got.varianceReduction, c.varianceReduction, 'reduction');
      expectClose(got.statistic, c.statistic, 't');
      expectClose(got.pValue, c.pValue, 'p');
      expectClose(got.df as number, c.df, 'df');
      expectClose(got.estimate as number, c.estimate, 'difference');
      expectAllClose(got.ci as number[], c.ci, 'ci');
    });
  }

  it('keeps the mean and removes corr² of the variance with the fitted θ', () => {
    const c = F.cuped[0];
    const got = cuped(c.treatment.y, c.treatment.x);
    const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(got.adjusted)).toBeCloseTo(mean(c.treatment.y), 10);
    expect(got.varianceReduction).toBeGreaterThan(0.5);
    expect(() => cuped([1, 2, 3], [4, 4, 4])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_ZERO_VARIANCE' }),
    );
  });
});

describe('mSPRT of two proportions', () => {
  for (const c of F.msprt) {
    it(`${c.treatment.successes}/${c.treatment.trials} vs ${c.control.successes}/${c.control.trials}, τ = ${c.tau}`, () => {
      const got = msprtTwoProportions(c.treatment, c.control, { tau: c.tau, alpha: c.alpha });
      expectClose(got.statistic, c.statistic, 'lambda');
      expectClose(got.pValue, c.pValue, 'p');
      expectClose(got.estimate, c.estimate, 'difference');
      expectAllClose(got.ci, c.ci, 'ci');
    });
  }

  it('keeps false positives at alpha in A/A tests checked at every look, where a peeking z-test does not', () => {
    const rng = createRng(2024);
    const experiments = 400;
    const looks = 40;
    const batch = 250;
    let msprtRejections = 0;
    let peekingRejections = 0;
    for (let e = 0; e < experiments; e++) {
      const t = { successes: 0, trials: 0 };
      const c = { successes: 0, trials: 0 };
      const history = [];
      let peeked = false;
      for (let l = 0; l < looks; l++) {
        for (let i = 0; i < batch; i++) {
          t.successes += rng.next() < 0.1 ? 1 : 0;
          c.successes += rng.next() < 0.1 ? 1 : 0;
        }
        t.trials += batch;
        c.trials += batch;
        history.push({ treatment: { ...t }, control: { ...c } });
        if (proportionZTest([t.successes, c.successes], [t.trials, c.trials]).pValue < 0.05) peeked = true;
      }
      if (msprtSequence(history, { tau: 0.02 }).at(-1)?.reject) msprtRejections++;
      if (peeked) peekingRejections++;
    }
    expect(msprtRejections / experiments).toBeLessThanOrEqual(0.05);
    expect(peekingRejections / experiments).toBeGreaterThan(0.1);
  });
});
