/**
 * The simulated click-through of the serving policy with one model's p̂ or another's, on the same logged
 * decisions: for each carousel whose candidate set was logged with both models' p̂ (the serving model's and the
 * shadow model's), the gateway's own Thompson sampling (`PolicyReplay`: the same posteriors, tempering and
 * ranking) deals from the logged arm counts once with each model's p̂, and the world's truth b(slot)·q(user, item)
 * gives each dealt slate's expected clicks. Both models meet the same user, candidates, counts and random draws
 * (one seed per carousel, common to both), so their difference is the models' part alone, without the luck of
 * which users each side of a split happened to get.
 */
import type { World } from '../../../simulator/world/world.ts';
import type { CandidateSet } from '../../../src/domain/candidate-set.ts';
import { loggedPolicy, PolicyReplay } from '../../../src/shadow/policy-replay.ts';
import { createRng } from '../../../src/stats/rng.ts';

export interface ReplayedDecision {
  userId: string;
  /** Slots the carousel dealt. */
  slots: number;
  candidates: CandidateSet;
}

export interface ReplayedCtr {
  decisions: number;
  /** Expected clicks per shown item with the serving model's p̂ (`scores`). */
  serving: number;
  /** The same with the shadow model's p̂ (`shadowScores`). */
  shadow: number;
  /** Mean of the per-decision differences serving − shadow and its standard error. */
  difference: number;
  standardError: number;
}

/** Expected clicks per shown item of the Thompson slates dealt with `scores`, by the world's truth. */
function expectedCtr(
  replay: PolicyReplay,
  decision: ReplayedDecision,
  scores: readonly number[],
  truth: readonly number[],
  bias: Float64Array,
  seed: number,
  out: Float64Array,
): number {
  replay.load(decision.candidates, scores, loggedPolicy('thompson', decision.candidates));
  replay.expectedScores(decision.slots, truth, createRng(seed), out);
  let clicks = 0;
  for (let s = 0; s < decision.slots; s++) clicks += bias[s] * out[s];
  return clicks / decision.slots;
}

export function replayedCtr(world: World, decisions: readonly ReplayedDecision[]): ReplayedCtr {
  const users = new Map(world.users.map((u) => [u.userId, u]));
  const items = new Map(world.items.map((i) => [i.itemId, i]));
  const replay = new PolicyReplay();
  const out = new Float64Array(world.slots);
  let serving = 0;
  let shadow = 0;
  let sum = 0;
  let sumSquares = 0;
  let n = 0;
  decisions.forEach((decision, k) => {
    const user = users.get(decision.userId);
    const shadowScores = decision.candidates.shadowScores;
    if (user === undefined || shadowScores === null) return;
    const truth = decision.candidates.itemIds.map((id) => world.model.attractiveness(user, items.get(id)!));
    const a = expectedCtr(replay, decision, decision.candidates.scores, truth, world.model.bias, k + 1, out);
    const b = expectedCtr(replay, decision, shadowScores, truth, world.model.bias, k + 1, out);
    serving += a;
    shadow += b;
    sum += a - b;
    sumSquares += (a - b) ** 2;
    n++;
  });
  const difference = n === 0 ? 0 : sum / n;
  const variance = n < 2 ? 0 : (sumSquares - n * difference * difference) / (n - 1);
  return {
    decisions: n,
    serving: n === 0 ? 0 : serving / n,
    shadow: n === 0 ? 0 : shadow / n,
    difference,
    standardError: Math.sqrt(variance / Math.max(1, n)),
  };
}
