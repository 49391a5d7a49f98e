import { describe, expect, it } from 'vitest';
import { doublyRobust, ips, type OffPolicyEstimate, snips } from '../../src/stats/off-policy.ts';
import { expectAllClose, expectClose, loadFixture } from './support.ts';

interface Reference {
  estimate: number;
  se: number;
  ci: [number, number];
  effectiveSampleSize: number;
  meanWeight: number;
}

interface Case {
  name: string;
  confidence: number;
  maxWeight?: number;
  reward: number[];
  propensity: number[];
  targetProbability: number[];
  modelEstimate: number[];
  targetModelEstimate?: number[];
  ips: Reference;
  snips: Reference;
  doublyRobust: Reference;
}

function expectMatches(got: OffPolicyEstimate, want: Reference, label: string): void {
  expectClose(got.estimate, want.estimate, `${label} estimate`);
  expectClose(got.se, want.se, `${label} se`);
  expectAllClose(got.ci, want.ci, `${label} ci`);
  expectClose(got.effectiveSampleSize, want.effectiveSampleSize, `${label} ess`);
  expectClose(got.meanWeight, want.meanWeight, `${label} mean weight`);
}

const CASES = loadFixture<Case[]>('off-policy.json');

describe('off-policy estimators agree with the numpy reference', () => {
  for (const c of CASES) {
    it(`${c.name}: IPS, SNIPS and doubly robust estimates, standard errors and intervals`, () => {
      const options = { confidence: c.confidence, maxWeight: c.maxWeight };
      expectMatches(ips(c, options), c.ips, 'ips');
      expectMatches(snips(c, options), c.snips, 'snips');
      expectMatches(doublyRobust(c, options), c.doublyRobust, 'dr');
    });
  }
});

describe('off-policy estimators', () => {
  it('recover the on-policy mean when target and logging policies coincide', () => {
    const reward = [1, 0, 0, 1, 1, 0, 1, 0];
    const p = [0.5, 0.25, 0.8, 0.1, 0.5, 0.9, 0.3, 0.6];
    const data = { reward, propensity: p, targetProbability: p };
    expect(ips(data).estimate).toBeCloseTo(0.5, 12);
    expect(snips(data).estimate).toBeCloseTo(0.5, 12);
    expect(ips(data).effectiveSampleSize).toBeCloseTo(8, 12);
  });

  it('rejects a zero logging propensity and mismatched lengths, naming the argument', () => {
    expect(() => ips({ reward: [1, 0], propensity: [0.5, 0], targetProbability: [1, 1] })).toThrow(
      /propensity\[1\]/,
    );
    expect(() => snips({ reward: [1, 0], propensity: [0.5], targetProbability: [1, 1] })).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_LENGTH_MISMATCH' }),
    );
    expect(() =>
      doublyRobust({ reward: [1], propensity: [0.5], targetProbability: [1], modelEstimate: [Number.NaN] }),
    ).toThrow(expect.objectContaining({ code: 'CROUPIER_ERR_STATS_NAN' }));
  });

  it('refuses SNIPS when the target policy never takes a logged action', () => {
    expect(() => snips({ reward: [1, 0], propensity: [0.5, 0.5], targetProbability: [0, 0] })).toThrow(
      /targetProbability/,
    );
  });
});
