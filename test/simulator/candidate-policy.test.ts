/**
 * The sweep's candidate policies (simulator/bandit/candidate-policy.ts) stand for the engine's: its `default`,
 * `ts1` and `greedy` specs must deal the very slates the runner's policies deal from the same random stream and
 * the same clicks, or the sweep's ratios say nothing about the policy croupier serves.
 */
import { describe, expect, it } from 'vitest';
import { CandidatePolicy, parseCandidate } from '../../simulator/bandit/candidate-policy.ts';
import { engineSettings } from '../../simulator/bandit/contenders.ts';
import { createPolicy, type SimPolicyName } from '../../simulator/bandit/policies.ts';
import type { SimItem } from '../../simulator/world/population.ts';
import { loadScenario } from '../../simulator/world/scenario.ts';
import { createWorld } from '../../simulator/world/world.ts';
import { UNTEMPERED } from '../../src/bandit/posterior.ts';
import { createRng } from '../../src/stats/rng.ts';

/** Slates (item indices) a spec and an engine policy deal side by side over `requests` requests of one world. */
function sideBySide(
  spec: string,
  engine: SimPolicyName,
  untempered: boolean,
  requests: number,
  name = 'cold-start',
) {
  const scenario = loadScenario(name);
  const world = createWorld(scenario, { seed: scenario.seed });
  const settings = engineSettings('examination');
  const candidate = new CandidatePolicy(parseCandidate(spec), createRng(5), world.segments.length, 1 << 14);
  const core = createPolicy(engine, {
    rng: createRng(5),
    segments: world.segments.length,
    priorStrength: settings.priorStrength ?? 20,
    tempering: untempered ? UNTEMPERED : settings.tempering,
    ...(settings.examination !== undefined ? { examination: settings.examination } : {}),
  });
  const responses = createRng(9);
  const ours: number[][] = [];
  const theirs: number[][] = [];
  while (ours.length < requests) {
    const session = world.nextSession();
    world.advance(session.at);
    const { user } = session;
    const score = (item: SimItem) => world.modelScore(user.segment, item);
    for (let r = 0; r < session.requests && ours.length < requests; r++) {
      const candidates = world.liveItems();
      const a = candidate.choose(user.segment, candidates, world.slots, score);
      const b = core.choose({ segment: user.segment, candidates, slots: world.slots, score });
      ours.push(a.map((item) => item.index));
      theirs.push(b.map((item) => item.index));
      const outcomes = world.model.respond(responses, user, a);
      for (let s = 0; s < a.length; s++) {
        candidate.observe(user.segment, a[s], s, outcomes[s].clicked);
        core.observe(user.segment, a[s], s, outcomes[s].clicked);
      }
    }
  }
  return { ours, theirs };
}

/** The arms a spec pulls in the first 5,000 pulls of the K-armed bandit (seed 23), as the sweep plays it. */
function kArmedPulls(spec: string): number[] {
  return kArmed(spec).pulls;
}

/** The K-armed play of `kArmedPulls`, with the policy that played it. */
function kArmed(spec: string) {
  const scenario = loadScenario('k-armed');
  const arms = createWorld(scenario, { seed: 23 }).liveItems();
  const policy = new CandidatePolicy({ ...parseCandidate(spec), m: 2, eta: undefined }, createRng(5), 1, 64);
  const responses = createRng(9);
  const pulls: number[] = [];
  for (let t = 0; t < 5000; t++) {
    const [arm] = policy.choose(0, arms, 1, () => 0.5);
    policy.observe(0, arm, 0, responses.next() < (arm.fixedCtr ?? 0));
    pulls.push(arm.index);
  }
  return { pulls, policy };
}

describe('candidate policies of the sweep', () => {
  for (const [spec, engine, untempered] of [
    ['default', 'thompson', false],
    ['ts1', 'thompson', true],
    ['greedy', 'greedy', false],
  ] as const) {
    it(`'${spec}' deals the slates of the engine's ${engine}${untempered ? ' (untempered)' : ''}`, () => {
      const { ours, theirs } = sideBySide(spec, engine, untempered, 3000);
      expect(ours).toEqual(theirs);
      // The clicks moved the counts: the slates are not one slate repeated.
      expect(new Set(ours.map((s) => s.join())).size).toBeGreaterThan(50);
    });
  }

  it('a variant deals other slates than the default from the same stream (top slot by posterior mean)', () => {
    const { ours, theirs } = sideBySide('thompson:low1', 'thompson', false, 3000);
    const differ = ours.filter((slate, i) => slate.join() !== theirs[i].join()).length;
    expect(differ).toBeGreaterThan(300);
  });

  it('the category correction leaves a pool of one category as it is (the K-armed bandit)', () => {
    const plain = kArmedPulls('default');
    expect(kArmedPulls('thompson:rcat20')).toEqual(plain);
    expect(new Set(plain).size).toBeGreaterThan(1);
  });

  it('the category correction moves the slates where categories differ (model-blind-spot)', () => {
    const { ours, theirs } = sideBySide('thompson:rcat20', 'thompson', false, 3000, 'model-blind-spot');
    expect(ours.filter((slate, i) => slate.join() !== theirs[i].join()).length).toBeGreaterThan(300);
  });

  it("the temperature coming back with the candidates' mean examinations (nbar) tempers less once they are counted", () => {
    const { ours, theirs } = sideBySide('thompson:nbar', 'thompson', false, 3000);
    // Before any impression n̄ = 0 and the posteriors are the default's: the same draws deal the same slate.
    expect(ours[0]).toEqual(theirs[0]);
    expect(ours.filter((slate, i) => slate.join() !== theirs[i].join()).length).toBeGreaterThan(300);
  });

  it('the empirical-Bayes temperature keeps the default where the fit finds p̂ worth little (the K-armed bandit)', () => {
    // p̂ = 1/2 for arms of 1-10 %: the fit finds the model worth its floor of one pseudo-impression, so
    // τ₀ = m/(c·m̂) = 2/6 is held at the default's 0.3 (and the fit starts where it leaves τ₀ as it is).
    const { pulls, policy } = kArmed('thompson:ebt6:ebcap:ebfloor0.2');
    expect(pulls).toEqual(kArmedPulls('default'));
    expect(policy.fits.length).toBe(Math.ceil(5000 / 128));
    expect(Math.max(...policy.fits)).toBeLessThanOrEqual(2 / (6 * 0.3));
  });

  it('the empirical-Bayes temperature deals other slates where the fit finds p̂ worth more (cold-start)', () => {
    const { ours, theirs } = sideBySide('thompson:ebt8:ebcap:ebfloor0.15', 'thompson', false, 3000);
    expect(ours.filter((slate, i) => slate.join() !== theirs[i].join()).length).toBeGreaterThan(300);
  });

  it('refuses a spec it does not know', () => {
    expect(() => parseCandidate('thompson:warp9')).toThrow(/unknown part warp9/);
    expect(() => parseCandidate('oracle')).toThrow(/thompson or greedy/);
  });
});
