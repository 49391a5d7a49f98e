/**
 * The truth behind a recording made against the gateway: the world of the recorded scenario and seed knows every
 * user's true click probabilities, so at every carousel that logged its candidate set a candidate's own slate
 * (dealt by the candidate from the logged p̂ and arm counts) has a known expected CTR. For a world whose users and
 * catalog do not change (steady-state), the recording's user and item ids are the world's.
 */
import type { LoggedCarousel } from '../../src/shadow/logged-carousel.ts';
import { loggedPolicy, PolicyReplay, resolvePolicy } from '../../src/shadow/policy-replay.ts';
import type { CandidateSpec } from '../../src/shadow/policy-spec.ts';
import { createRng } from '../../src/stats/rng.ts';
import type { SimItem, SimUser } from '../world/population.ts';
import type { Scenario } from '../world/scenario.ts';
import { createWorld } from '../world/world.ts';

export interface RecordingTruth {
  /** The logging policy's expected CTR on the logged slates. */
  logged: number;
  /** Each candidate's expected CTR per impression at the logged states, by label. */
  candidates: Record<string, number>;
  /** Carousels that logged a candidate set and whose user and items the world knows. */
  carousels: number;
}

export function recordingTruth(
  scenario: Scenario,
  seed: number,
  carousels: readonly LoggedCarousel[],
  specs: readonly CandidateSpec[],
): RecordingTruth {
  const world = createWorld(scenario, { seed });
  const users = new Map<string, SimUser>(world.users.map((u) => [u.userId, u]));
  const items = new Map<string, SimItem>(world.items.map((i) => [i.itemId, i]));
  const replay = new PolicyReplay();
  const rng = createRng(seed + 17);
  const sums = new Float64Array(specs.length);
  let logged = 0;
  let impressions = 0;
  let counted = 0;
  for (const carousel of carousels) {
    const set = carousel.candidates;
    const user = users.get(carousel.userId);
    if (set === null || user === undefined || set.itemIds.some((id) => !items.has(id))) continue;
    const count = carousel.items.length;
    const candidates = set.itemIds.map((id) => items.get(id)!);
    logged += world.model.expectedClicks(
      user,
      carousel.items.map((item) => items.get(item.itemId)!),
    );
    specs.forEach((spec, k) => {
      replay.load(set, set.scores, resolvePolicy(spec, loggedPolicy(carousel.policy, set)));
      const order = replay.deal(count, rng);
      sums[k] += world.model.expectedClicks(
        user,
        Array.from(order.subarray(0, count), (i) => candidates[i]),
      );
    });
    impressions += count;
    counted++;
  }
  const out: Record<string, number> = {};
  specs.forEach((spec, k) => {
    out[spec.label] = sums[k] / Math.max(1, impressions);
  });
  return { logged: logged / Math.max(1, impressions), candidates: out, carousels: counted };
}
