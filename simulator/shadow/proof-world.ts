/**
 * The seeded world the shadow-test proof logs traffic in (test/shadow, bench/shadow.ts): the steady-state
 * scenario with 12 items of similar appeal (popularity sd 0.2, taste weight 0.4), so that Thompson sampling
 * keeps dealing every item in every slot now and then and the candidates below have most of their mass where
 * the log has data; and the candidates the proof evaluates against their on-policy truth.
 */
import { parseCandidateSpec } from '../../src/shadow/policy-spec.ts';
import type { RecordingWriter } from '../replay/recording.ts';
import type { Scenario } from '../world/scenario.ts';
import { loadScenario } from '../world/scenario.ts';
import { type LoggedRun, runLoggedTraffic } from './logged-run.ts';

export function shadowProofScenario(): Scenario {
  const base = loadScenario('steady-state');
  if (base.kind !== 'world') throw new Error('steady-state is a world scenario');
  return {
    ...base,
    name: 'shadow-proof',
    items: { ...base.items, initial: 12, popularitySd: 0.2 },
    click: { ...base.click, tasteWeight: 0.4 },
  };
}

/** greedy, UCB1, uniform and Thompson sampling with a prior five times stronger than the logging one's. */
export const PROOF_CANDIDATES = [
  'policy=greedy',
  'policy=ucb1',
  'policy=uniform',
  'policy=thompson,priorStrength=100',
].map(parseCandidateSpec);

/** The logging policy: plain Thompson sampling with the engine's default prior strength. */
export const PROOF_LOGGING = { policy: 'thompson', priorStrength: 20 } as const;

/** One seed of the proof: `carousels` logged under the proof's logging policy, with each candidate's truth. */
export function runProofSeed(seed: number, carousels: number, recorder?: RecordingWriter): LoggedRun {
  return runLoggedTraffic({
    scenario: shadowProofScenario(),
    seed,
    maxCarousels: carousels,
    ...PROOF_LOGGING,
    truthFor: PROOF_CANDIDATES,
    recorder: recorder ?? null,
  });
}
