import { describe, expect, it } from 'vitest';
import type { CandidateSet } from '../../src/domain/candidate-set.ts';
import { loggedPolicy, PolicyReplay } from '../../src/shadow/policy-replay.ts';
import { createRng } from '../../src/stats/rng.ts';

/** Two consecutive decisions of the shadow proof's log (seed 24, carousels 9,036 and 9,037): 12 candidates, 5 slots. */
function decision(scores: number[], impressions: number[], clicks: number[]): CandidateSet {
  return {
    itemIds: scores.map((_, i) => `i${String(i).padStart(5, '0')}`),
    scores,
    impressions,
    clicks,
    priorStrength: 20,
    temperature: 1,
    temperingImpressions: 1,
    epsilon: 0.1,
    ucbC: 1,
    shadowModelVersion: null,
    shadowScores: null,
  };
}

const BEFORE = decision(
  [0.0977, 0.3123, 0.0801, 0.036, 0.3809, 0.0946, 0.0414, 0.1514, 0.0697, 0.2424, 0.0458, 0.0803],
  [1519, 1711, 1027, 259, 1981, 336, 137, 1959, 219, 389, 163, 205],
  [105, 58, 29, 5, 371, 9, 2, 212, 3, 4, 2, 2],
);
const AFTER = decision(
  [0.1541, 0.1512, 0.0623, 0.2358, 0.0676, 0.0401, 0.145, 0.1955, 0.1907, 0.0488, 0.03, 0.0959],
  [245, 415, 1664, 1405, 415, 563, 533, 1803, 201, 272, 60, 1594],
  [3, 10, 113, 60, 13, 37, 13, 247, 2, 7, 0, 90],
);
/** The slate dealt at the second decision. */
const SHOWN = Int32Array.from([7, 2, 11, 5, 9]);

function thompsonProbabilities(replay: PolicyReplay, set: CandidateSet, shown: Int32Array): number[] {
  replay.load(set, set.scores, loggedPolicy('thompson', set));
  const out = new Float64Array(shown.length);
  replay.probabilities(shown, shown.length, createRng(1), out);
  return Array.from(out);
}

function dealtShares(set: CandidateSet, shown: Int32Array, draws: number): number[] {
  const replay = new PolicyReplay();
  replay.load(set, set.scores, loggedPolicy('thompson', set));
  const rng = createRng(2);
  const hits = new Array<number>(shown.length).fill(0);
  for (let d = 0; d < draws; d++) {
    const order = replay.deal(shown.length, rng);
    for (let s = 0; s < shown.length; s++) if (order[s] === shown[s]) hits[s]++;
  }
  return hits.map((h) => h / draws);
}

describe('policy replay', () => {
  it("gives a decision's Thompson propensities whatever decision it replayed before", () => {
    const fresh = thompsonProbabilities(new PolicyReplay(), AFTER, SHOWN);
    const reused = new PolicyReplay();
    thompsonProbabilities(reused, BEFORE, Int32Array.from([4, 7, 0, 2, 6]));
    const afterAnother = thompsonProbabilities(reused, AFTER, SHOWN);
    const shares = dealtShares(AFTER, SHOWN, 20_000);
    for (let s = 0; s < SHOWN.length; s++) {
      expect(Math.abs(fresh[s] - shares[s])).toBeLessThan(0.015);
      expect(afterAnother[s]).toBeCloseTo(fresh[s], 9);
    }
  });
});

describe("policy replay's slot rows", () => {
  /** P(shown[t] at slot s) for every t, s, from `slotRows`, as rows. */
  function rows(policy: 'thompson' | 'greedy' | 'random', set: CandidateSet, shown: Int32Array): number[][] {
    const replay = new PolicyReplay();
    replay.load(set, set.scores, { ...loggedPolicy('thompson', set), policy });
    const width = shown.length + 2;
    const out = new Float64Array(shown.length * width).fill(-1);
    replay.slotRows(shown, shown.length, createRng(3), out, width);
    return Array.from({ length: shown.length }, (_, t) =>
      Array.from(out.subarray(t * width, t * width + shown.length)),
    );
  }

  it("give each shown item's probability of every slot: the frequencies of Thompson sampling's dealt slates", () => {
    const got = rows('thompson', AFTER, SHOWN);
    const replay = new PolicyReplay();
    replay.load(AFTER, AFTER.scores, loggedPolicy('thompson', AFTER));
    const rng = createRng(4);
    const draws = 20_000;
    const hits = Array.from(SHOWN, () => new Array<number>(SHOWN.length).fill(0));
    for (let d = 0; d < draws; d++) {
      const order = replay.deal(SHOWN.length, rng);
      for (let s = 0; s < SHOWN.length; s++) {
        const t = SHOWN.indexOf(order[s]);
        if (t >= 0) hits[t][s]++;
      }
    }
    for (let t = 0; t < SHOWN.length; t++) {
      for (let s = 0; s < SHOWN.length; s++)
        expect(Math.abs(got[t][s] - hits[t][s] / draws)).toBeLessThan(0.015);
    }
  });

  it("put a deterministic policy's own slate on the diagonal, and a uniform policy's 1/n everywhere", () => {
    const replay = new PolicyReplay();
    replay.load(AFTER, AFTER.scores, { ...loggedPolicy('thompson', AFTER), policy: 'greedy' });
    const greedy = Int32Array.from(replay.deal(5, createRng(5)).subarray(0, 5));
    // Greedy's slate in another order: its rows are a permutation matrix.
    const shuffled = Int32Array.from([greedy[3], greedy[0], greedy[4], greedy[1], greedy[2]]);
    const got = rows('greedy', AFTER, shuffled);
    for (let t = 0; t < 5; t++) {
      for (let s = 0; s < 5; s++) expect(got[t][s]).toBe(shuffled[t] === greedy[s] ? 1 : 0);
    }
    for (const row of rows('random', AFTER, SHOWN)) for (const p of row) expect(p).toBeCloseTo(1 / 12, 12);
  });
});
