import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/errors/index.ts';
import { evaluateShadow } from '../../src/shadow/evaluate-shadow.ts';
import { parseCandidateSpec } from '../../src/shadow/policy-spec.ts';
import { loggedCarousel } from './support/logged-carousels.ts';

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
      /priorStrength must be a number in \[0.000001, 1000000\], got '-1'/,
    );
    expect(refusal(() => parseCandidateSpec('priorStrength=3'))).toMatch(/names no policy/);
    expect(refusal(() => parseCandidateSpec('greedy'))).toMatch(/'greedy' is not key=value/);
    expect(refusal(() => parseCandidateSpec(''))).toMatch(/empty/);
  });

  it('refuse settings whose Thompson integral would never finish, and the ends of each range finish', () => {
    for (const setting of [
      'priorStrength=1e308',
      'priorStrength=1e-300',
      'temperature=1e-300',
      'temperingImpressions=1e308',
      'ucbC=1e308',
    ]) {
      const name = setting.split('=')[0];
      expect(refusal(() => parseCandidateSpec(`policy=thompson,${setting}`))).toMatch(
        new RegExp(`${name} must be a number in .*, got '${setting.split('=')[1]}'`),
      );
    }
    const ends = [
      'policy=thompson,priorStrength=0.000001,temperature=0.000001',
      'policy=thompson,priorStrength=1e6,temperature=0.000001,temperingImpressions=1e12',
      'policy=ucb1,ucbC=1e6',
    ].map(parseCandidateSpec);
    const report = evaluateShadow([loggedCarousel()], ends, { replicates: 5 });
    for (const candidate of report.candidates) {
      expect(Number.isFinite(candidate.metrics.ctr.estimates.ips.estimate)).toBe(true);
    }
  });

  it('an input without candidate sets is refused with how to log them', () => {
    const carousel = loggedCarousel({ candidates: null });
    expect(refusal(() => evaluateShadow([carousel], [parseCandidateSpec('policy=greedy')]))).toMatch(
      /log.candidateSampleRate > 0/,
    );
    expect(refusal(() => evaluateShadow([], [parseCandidateSpec('policy=greedy')]))).toMatch(/no carousels/);
  });
});
