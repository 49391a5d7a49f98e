/**
 * Candidate variants of the default policy that the engine does not have, played in process against the
 * baselines over the tuning seeds, to decide whether one is worth building (README, Regret: "Calibrating p̂ to
 * the counts"). Each candidate plays its own copy of the world with the runner's random streams (the k-th
 * candidate of the list draws from the stream `runInProcess` gives its k-th policy), so `default`, `ts1`,
 * `greedy` and `greedyRaw` reproduce the runner's regret for the same list order. Prints one JSON line per seed,
 * then each candidate's total regret over the best total of the baselines in the list (`ts1`, `greedy`,
 * `greedyRaw`).
 *
 *   npx tsx simulator/report/candidate-sweep.ts <scenario> <candidate,…> [--offsets 0,500,…]
 *
 * A candidate is `default`, `ts1` (untempered), `greedy`, `greedyRaw` (raw counts), or a spec
 * `thompson|greedy[:t<τ₀>][:n<n₀>][:m<m>][:cal<a>][:cat<b>][:eta<η>|:raw][:mean][:low<k>][:ps<x>]`:
 * - `cal<a>`: the prior's mean r·p̂, r = (Σ clicks + a) / (Σ p̂·examinations + a) over the request's candidates;
 * - `cat<b>`: the same per category, (clicks_c + b·r) / (Σ_c p̂·examinations + b), r the request's (or 1);
 * - `eta<η>`: examination curve 1/(1 + k)^η (default 1, the engine's); `raw`: raw impression counts;
 * - `mean`: Thompson draws pick the slate, posterior means order it;
 * - `low<k>`: posterior means fill the first k slots, Thompson draws the rest;
 * - `ps<x>`: p̂ times x (0.52: the click rate at the average slot of five, as a model `croupier train` serves,
 *   rather than at a slot surely seen).
 *
 * The README's figures came from (tuning offsets 0, 500, …, 5500; steady-state 0, 1000, …, 5000):
 *   cold-start default,ts1,greedy,greedyRaw,thompson:cal20,greedy:cal20,thompson:cal20:cat20,
 *     greedy:cal20:cat20,thompson:mean,thompson:low3,thompson:eta0.8,greedy:eta0.8
 *   cold-start default,greedy,thompson:cal20,thompson:cal20:mean,thompson:cal20:t0.2,thompson:cal20:t0.2:n1000,
 *     thompson:cal20:low3,thompson:cal100
 *   model-blind-spot default,ts1,greedy,greedyRaw,thompson:cal20,greedy:cal20,thompson:cal20:cat20,
 *     greedy:cal20:cat20,thompson:mean,thompson:low3   (and thompson:cal20:t0.2:n1000,thompson:cal20:t0.2)
 *   preference-drift default,ts1,greedy,greedyRaw,thompson:cal20,greedy:cal20,thompson:mean,thompson:cal20:mean,
 *     thompson:low3
 *   new-item-burst, popularity-shock default,ts1,greedy,greedyRaw,thompson:cal20,thompson:cal20:t0.2:n1000,
 *     thompson:cal20:t0.2
 *   steady-state default,ts1,greedy,thompson:cal20 --offsets 0,1000,2000,3000,4000,5000
 */
import { parseArgs } from 'node:util';
import { SlateExplorer } from '../../src/bandit/explorer.ts';
import { fillPosteriors, type Tempering, UNTEMPERED } from '../../src/bandit/posterior.ts';
import { createRng, type Rng } from '../../src/stats/rng.ts';
import { examinationProbability } from '../../streams/fold/position-bias.ts';
import type { SimItem } from '../world/population.ts';
import { loadScenario } from '../world/scenario.ts';
import { createWorld } from '../world/world.ts';

interface Candidate {
  label: string;
  rank: 'thompson' | 'greedy';
  m: number;
  tempering: Tempering;
  /** Examination curve exponent; undefined: raw counts. */
  eta?: number;
  calibrate?: number;
  category?: number;
  meanOrder?: boolean;
  greedySlots?: number;
  /** p̂ times this before anything else (a model calibrated to another slot). */
  scoreScale?: number;
}

const DEFAULT_TEMPERING: Tempering = { temperature: 0.3, impressions: 500 };
const NAMED: Record<string, string> = {
  default: 'thompson',
  ts1: 'thompson:t1',
  greedy: 'greedy',
  greedyRaw: 'greedy:raw',
};
const BASELINES = ['ts1', 'greedy', 'greedyRaw'];

function parseCandidate(label: string): Candidate {
  const parts = (NAMED[label] ?? label).split(':');
  if (parts[0] !== 'thompson' && parts[0] !== 'greedy')
    throw new Error(`candidate ${label}: thompson or greedy`);
  const c: Candidate = { label, rank: parts[0], m: 20, tempering: DEFAULT_TEMPERING, eta: 1 };
  let t = DEFAULT_TEMPERING.temperature;
  let n0 = DEFAULT_TEMPERING.impressions;
  for (const part of parts.slice(1)) {
    const [, key, value] = /^([a-z]+)([\d.]*)$/.exec(part) ?? [];
    const x = Number(value);
    if (key === 't') t = x;
    else if (key === 'n') n0 = x;
    else if (key === 'm') c.m = x;
    else if (key === 'cal') c.calibrate = x;
    else if (key === 'cat') c.category = x;
    else if (key === 'eta') c.eta = x;
    else if (key === 'raw') c.eta = undefined;
    else if (key === 'mean') c.meanOrder = true;
    else if (key === 'low') c.greedySlots = x;
    else if (key === 'ps') c.scoreScale = x;
    else throw new Error(`candidate ${label}: unknown part ${part}`);
  }
  c.tempering = t >= 1 ? UNTEMPERED : { temperature: t, impressions: n0 };
  return c;
}

/** Counts per (segment, item) as the fold keeps them, and a candidate's slate from them. */
class CandidatePolicy {
  private readonly impressions: Float64Array[];
  private readonly clicks: Float64Array[];
  private readonly explorer = new SlateExplorer({ replicates: 1, delta: 0.05 });
  private scores = new Float32Array(1024);
  private readonly examination: number[] | undefined;
  private readonly params = { epsilon: 0, ucbC: 0 };

  constructor(
    private readonly c: Candidate,
    private readonly rng: Rng,
    segments: number,
    items: number,
  ) {
    this.impressions = Array.from({ length: segments }, () => new Float64Array(items));
    this.clicks = Array.from({ length: segments }, () => new Float64Array(items));
    const eta = c.eta;
    this.examination =
      eta === undefined ? undefined : Array.from({ length: 64 }, (_, k) => (1 / (k + 1)) ** eta);
  }

  choose(segment: number, candidates: readonly SimItem[], slots: number, score: (i: SimItem) => number) {
    const n = candidates.length;
    const ex = this.explorer;
    ex.ensure(n);
    if (this.scores.length < n) this.scores = new Float32Array(2 * n);
    const seen = this.impressions[segment];
    const clicked = this.clicks[segment];
    for (let i = 0; i < n; i++) {
      const item = candidates[i];
      this.scores[i] = score(item) * (this.c.scoreScale ?? 1);
      ex.impressions[i] = seen[item.index];
      ex.clicks[i] = clicked[item.index];
    }
    this.calibrate(candidates, n);
    fillPosteriors(this.scores, ex.impressions, ex.clicks, this.c.m, n, ex.alpha, ex.beta, this.c.tempering);
    const take = (k: number) => Array.from(ex.order.subarray(0, k));
    if (this.c.rank === 'thompson' && this.c.greedySlots !== undefined) {
      const first = take(ex.rank('greedy', n, this.c.greedySlots, this.params, this.rng));
      const drawn = take(ex.rank('thompson', n, Math.min(n, slots + first.length), this.params, this.rng));
      const rest = drawn.filter((i) => !first.includes(i));
      return [...first, ...rest].slice(0, slots).map((i) => candidates[i]);
    }
    const chosen = take(ex.rank(this.c.rank, n, slots, this.params, this.rng));
    if (this.c.meanOrder) {
      const mean = (i: number) => ex.alpha[i] / (ex.alpha[i] + ex.beta[i]);
      chosen.sort((a, b) => mean(b) - mean(a));
    }
    return chosen.map((i) => candidates[i]);
  }

  /** The candidate's calibration of p̂ (in place): by the request's ratio, then by its category's. */
  private calibrate(candidates: readonly SimItem[], n: number): void {
    const { calibrate, category } = this.c;
    if (calibrate === undefined && category === undefined) return;
    const ex = this.explorer;
    let clicks = 0;
    let predicted = 0;
    const byCategory = new Map<string, [number, number]>();
    for (let i = 0; i < n; i++) {
      clicks += ex.clicks[i];
      predicted += this.scores[i] * ex.impressions[i];
      const sums = byCategory.get(candidates[i].category) ?? [0, 0];
      sums[0] += ex.clicks[i];
      sums[1] += this.scores[i] * ex.impressions[i];
      byCategory.set(candidates[i].category, sums);
    }
    const r = calibrate === undefined ? 1 : (clicks + calibrate) / (predicted + calibrate);
    for (let i = 0; i < n; i++) {
      let ratio = r;
      if (category !== undefined) {
        const [c, p] = byCategory.get(candidates[i].category) ?? [0, 0];
        ratio = (c + category * r) / (p + category);
      }
      this.scores[i] = Math.min(0.95, this.scores[i] * ratio);
    }
  }

  observe(segment: number, item: SimItem, slot: number, clicked: boolean): void {
    this.impressions[segment][item.index] += clicked ? 1 : examinationProbability(this.examination, slot);
    if (clicked) this.clicks[segment][item.index] += 1;
  }
}

/** The runner's random streams (simulator/bandit/runner.ts). */
const POLICY_STREAM = 7_000_003;
const RESPONSE_STREAM = 9_000_011;

function play(name: string, seed: number, candidates: readonly Candidate[]): Record<string, number> {
  const scenario = loadScenario(name);
  const out: Record<string, number> = {};
  for (const [p, c] of candidates.entries()) {
    const world = createWorld(scenario, { seed });
    const policy = new CandidatePolicy(
      c,
      createRng(seed + POLICY_STREAM + p),
      world.segments.length,
      1 << 14,
    );
    const responses = createRng(seed + RESPONSE_STREAM);
    let regret = 0;
    let oracle = 0;
    for (;;) {
      const session = world.nextSession();
      if (session.at >= world.durationSeconds) break;
      world.advance(session.at);
      const { user } = session;
      const score = (item: SimItem) => world.modelScore(user.segment, item);
      for (let r = 0; r < session.requests; r++) {
        const candidates = world.liveItems();
        const slate = policy.choose(user.segment, candidates, world.slots, score);
        const outcomes = world.model.respond(responses, user, slate);
        for (let s = 0; s < slate.length; s++) policy.observe(user.segment, slate[s], s, outcomes[s].clicked);
        const best = world.model.oracleClicks(user, candidates, world.slots);
        oracle += best;
        regret += best - world.model.expectedClicks(user, slate);
      }
    }
    out[c.label] = regret;
    out.oracle = oracle;
  }
  return out;
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    offsets: { type: 'string', default: '0,500,1000,1500,2000,2500,3000,3500,4000,4500,5000,5500' },
  },
});
const [scenarioName, list] = positionals;
if (scenarioName === undefined || list === undefined) {
  throw new Error('usage: candidate-sweep.ts <scenario> <candidate,…> [--offsets 0,500,…]');
}
const candidates = list.split(',').map(parseCandidate);
const scenario = loadScenario(scenarioName);
const totals: Record<string, number> = {};
for (const offset of (values.offsets ?? '').split(',').map(Number)) {
  const seed = scenario.seed + offset;
  const regret = play(scenarioName, seed, candidates);
  console.log(JSON.stringify({ scenario: scenarioName, seed, ...regret }));
  for (const [label, v] of Object.entries(regret)) totals[label] = (totals[label] ?? 0) + v;
}
const baselines = BASELINES.filter((b) => b in totals);
const best = Math.min(...baselines.map((b) => totals[b]));
console.log(`\n${scenarioName}: total regret ÷ best of ${baselines.join(', ')}`);
for (const c of candidates) {
  const share = (100 * totals[c.label]) / totals.oracle;
  console.log(
    `  ${c.label.padEnd(28)} ${(totals[c.label] / best).toFixed(3)}   (${share.toFixed(2)} % of the oracle)`,
  );
}
