import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/errors/index.ts';
import { evaluateShadow } from '../../src/shadow/evaluate-shadow.ts';
import { parseCandidateSpec } from '../../src/shadow/policy-spec.ts';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (hasCode(error, 'CROUPIER_ERR_SHADOW_SPEC') || hasCode(error, 'CROUPIER_ERR_SHADOW_NO_DATA')) {
      return error.message;
    }
    throw error;
  }
  throw new Error('not refused');
}

describe('candidate specs', () => {
  it('read a policy with its settings, uniform as random', () => {
    expect(parseCandidateSpec('policy=thompson,priorStrength=50')).toEqual({
      label: 'policy=thompson,priorStrength=50',
      policy: 'thompson',
      priorStrength: 50,
    });
    expect(parseCandidateSpec('policy=uniform,label=flat')).toEqual({ label: 'flat', policy: 'random' });
    expect(parseCandidateSpec('policy=thompson,model=default-2').model).toBe('default-2');
  });

  it('refuse unknown keys, policies and out-of-range values, saying which', () => {
    expect(refusal(() => parseCandidateSpec('policy=greedy,prior=3'))).toMatch(/unknown key 'prior'/);
    expect(refusal(() => parseCandidateSpec('policy=bestest'))).toMatch(/unknown policy 'bestest'/);
    expect(refusal(() => parseCandidateSpec('policy=thompson,priorStrength=-1'))).toMatch(
      /priorStrength must be a number > 0, got '-1'/,
    );
    expect(refusal(() => parseCandidateSpec('priorStrength=3'))).toMatch(/names no policy/);
    expect(refusal(() => parseCandidateSpec('greedy'))).toMatch(/'greedy' is not key=value/);
    expect(refusal(() => parseCandidateSpec(''))).toMatch(/empty/);
  });

  it('an input without candidate sets is refused with how to log them', () => {
    const carousel = {
      requestId: 'r1',
      userId: 'u1',
      timestamp: 0,
      policy: 'thompson' as const,
      modelVersion: 'default-1',
      shadowPolicy: null,
      items: [{ itemId: 'a', slot: 0, score: 0.1, propensity: 0.5, shadowPropensity: null }],
      candidates: null,
      clicks: [0],
      conversions: [0],
      watchSeconds: [0],
    };
    expect(refusal(() => evaluateShadow([carousel], [parseCandidateSpec('policy=greedy')]))).toMatch(
      /log.candidateSampleRate > 0/,
    );
    expect(refusal(() => evaluateShadow([], [parseCandidateSpec('policy=greedy')]))).toMatch(/no carousels/);
  });
});
