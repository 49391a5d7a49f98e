/**
 * The candidate set a sampled decision logs for shadow tests carries the p̂ the policy ranked with. A model that
 * passed the load-time probe can still score NaN, or outside [0, 1], on live rows: the posteriors take such a
 * score as clamped (NaN as the smallest p̂), and the logged set must say the same, or a shadow test over that
 * period reads NaN.
 */
import { describe, expect, it } from 'vitest';
import { fillPosteriors, P_MIN, priorMean } from '../../src/bandit/posterior.ts';
import { CandidateLog } from '../../src/decision/candidate-log.ts';
import type { Decision, ItemInfo } from '../../src/domain/decision.ts';
import { silentLogger } from '../../src/log/logger.ts';

const item = (i: number): ItemInfo => ({
  itemId: `item-${i}`,
  title: `Title ${i}`,
  category: 'drama',
  tags: [],
  available: true,
  createdAt: 0,
});

describe('the logged candidate set', () => {
  it('carries each score as the posteriors took it: NaN and out-of-range scores clamped, never NaN', () => {
    const log = new CandidateLog({ sampleRate: 1 }, 1, silentLogger());
    const decision = {} as Decision;
    const scores = Float32Array.from([Number.NaN, 1.7, -0.1, 0.25, Number.POSITIVE_INFINITY]);
    const impressions = Float64Array.from([10, 0, 3, 8, 1]);
    const clicks = Float64Array.from([1, 0, 0, 2, 1]);
    const settings = { priorStrength: 20, tempering: undefined, epsilon: 0.1, ucbC: 1 };
    log.hold(
      decision,
      [0, 1, 2, 3, 4].map(item),
      5,
      scores,
      new Float32Array(0),
      0,
      impressions,
      clicks,
      settings,
    );
    const set = decision.candidates!.resolve();
    expect(set.scores).toEqual([P_MIN, 1 - P_MIN, P_MIN, 0.25, 1 - P_MIN]);
    expect(set.scores.every(Number.isFinite)).toBe(true);
    const replay = (p: Float32Array) => {
      const alpha = new Float64Array(5);
      const beta = new Float64Array(5);
      fillPosteriors(p, impressions, clicks, 20, 5, alpha, beta);
      return [...alpha, ...beta];
    };
    // Replayed from the log (as float32, as a shadow test reads it), the posteriors are those the decision ranked
    // with, to float32's rounding of p̂.
    const logged = replay(Float32Array.from(set.scores));
    for (const [i, v] of replay(scores).entries()) expect(Math.abs(logged[i] - v)).toBeLessThan(1e-5);
    expect([Number.NaN, -1, 0, 0.5, 1, 2].map(priorMean)).toEqual([
      P_MIN,
      P_MIN,
      P_MIN,
      0.5,
      1 - P_MIN,
      1 - P_MIN,
    ]);
  });
});
