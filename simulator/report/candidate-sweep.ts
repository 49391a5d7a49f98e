/**
 * Candidate variants of the default policy that the engine does not have, played in process against the
 * baselines over the tuning seeds, to decide whether one is worth building (README, Regret: "Calibrating p̂ to
 * the counts"). Each candidate plays its own copy of the world with the runner's random streams (the k-th
 * candidate of the list draws from the stream `runInProcess` gives its k-th policy), so `default`, `ts1`,
 * `greedy` and `greedyRaw` reproduce the runner's regret for the same list order. Prints one JSON line per seed,
 * then each candidate's total regret over the best total of the baselines in the list (`ts1`, `greedy`,
 * `greedyRaw`).
 *
 *   npx tsx simulator/report/candidate-sweep.ts <scenario> <candidate,…> [--offsets 0,500,…] [--windows k]
 *
 * With the `k-armed` scenario it prints each candidate's regret over the Lai–Robbins bound (at 10⁴ pulls and at
 * the end; the largest over the seeds), played as the runner plays it: one slot, p̂ = 1/2, m = 2, raw counts.
 *
 * `--windows k` also prints each candidate's regret in k equal windows of simulated time (summed over the
 * seeds), as a share of the oracle's clicks in the window and over the best baseline's regret in it.
 *
 * A candidate with an empirical-Bayes part (`ebm`, `ebt`) also prints the spread of its fitted m̂.
 *
 * `--breakdown` also prints where each candidate's regret is lost, against the best baseline's (summed over the
 * seeds, expected clicks): per slot, b(s)·(q of the oracle's s-th item − q of the item dealt in slot s), which
 * add up to the regret; and the same by how many examinations the dealt item had in the user's segment before
 * (fewer than 30, 30–150, more), counted as the fold counts them.
 *
 * A candidate is a spec of `simulator/bandit/candidate-policy.ts` (`default`, `ts1`, `greedy`, `greedyRaw`, or
 * `thompson|greedy` with parts such as `:cal20`, `:low1`, `:tt0.5`, `:ebt`).
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
 *
 * The calibration fading with the evidence, and held within bounds (tuning offsets as above; measured, none
 * adopted, figures not in the README):
 *   cold-start default,ts1,greedy,greedyRaw --windows 6
 *   cold-start default,greedy,thompson:cal20,thompson:cal20:fade100,thompson:cal20:fade300,
 *     thompson:cal20:fade1000,thompson:cal20:own100,thompson:cal20:t0.2:n1000 --windows 3
 *   cold-start default,greedy,thompson:cal20:clamp0.8,thompson:cal20:clamp0.9,thompson:cal20:clamp0.8:fade300
 *   model-blind-spot, new-item-burst, popularity-shock, preference-drift default,ts1,greedy,greedyRaw,
 *     thompson:cal20:fade100,thompson:cal20:fade300,thompson:cal20:fade30 (and …,greedyRaw,thompson:cal20:clamp0.8)
 *   steady-state default,ts1,thompson:cal20:fade100,thompson:cal20:fade300 --offsets 3000,4000,5000 --windows 8
 *     (and default,ts1,thompson:cal20:fade100,thompson:cal20:t0.2:n1000:fade100 on 0,1000,2000;
 *     thompson:cal20:fade300 and thompson:cal20:clamp0.8 alone on both halves)
 *   k-armed default,thompson:cal20:fade100,thompson:cal20:fade300 --offsets 0,1000,…,5000,7000,…,12000
 *   k-armed default,thompson:cal20:clamp0.8,thompson:cal20:clamp0.8:fade300,thompson:cal20:clamp0.7:fade300
 *     --offsets 0,1000,…,5000,7000,…,12000
 *
 * Top-two Thompson sampling, an index for the top slot, an empirical-Bayes prior and the relative category
 * calibration (tuning offsets as above; in the README, none adopted):
 *   cold-start, preference-drift default,ts1,greedy,greedyRaw,thompson:tt0.5,thompson:tt0.8,thompson:ucbz0.5,
 *     thompson:bucb0,thompson:ebm,thompson:ebt1,thompson:ebt1:ebcap,thompson:cal20:ebt1:ebcap
 *   every world default,ts1,greedy,greedyRaw,thompson:rcat20,thompson:rcat100 (steady-state 0,1000,…,5000)
 *
 * Capping the weight of the counts under tempering (README, "Capping the weight of the counts"):
 *   k-armed default,thompson:nbar:t0.15:n2000,thompson:nbar:t0.15:n2000:dcap2,thompson:nbar:t0.15:n2000:dcap3,
 *     thompson:dcap2:t0.15:n2000,thompson:t0.15:n2000 --offsets 0,1000,…,5000,7000,…,24000
 *   cold-start default,ts1,greedy,greedyRaw,thompson:nbar:t0.15:n2000:dcap2,thompson:dcap2:t0.15:n2000,
 *     thompson:nbar:t0.1:n2000:dcap2 --offsets 0,500,…,5500,13000,14000,…,24000
 *
 * The prior's strength from the live counts as a relative signal (README, Regret: "Setting the prior's strength
 * from the live counts"; tuning offsets, steady-state 0,1000,…,5000; none adopted):
 *   <world> default,thompson:ebfit,thompson:ebfit:ebcal:ebmin100,thompson:ebfit:ebcal --offsets 0,500,1000
 *     (steady-state --offsets 0; cold-start also thompson:ebfit:ebmin100)
 *   every world default,ts1,greedy,greedyRaw,thompson:ebt6:ebcap:ebfloor0.2,thompson:ebt8:ebcap:ebfloor0.15,
 *     thompson:ebt6:ebcap:ebfloor0.15,thompson:ebt3:ebcap:ebcal:ebfloor0.15 (the last in cold-start and
 *     preference-drift only); in a run of their own the same three with :ebpool (cold-start, preference-drift,
 *     steady-state)
 *   k-armed default,ts1,greedy,greedyRaw,thompson,thompson:ebt3:ebcap:ebcal:ebfloor0.15,
 *     thompson:ebt2:ebcap:ebcal:ebfloor0.15   (thompson: the default from the fifth random stream)
 *   k-armed default,thompson:m1,…,thompson:m9   (the default from ten random streams: m is 2 there for every spec)
 *
 * The fourth held-out set, run once after that round on the default and the baselines:
 *   <scenario> default,ts1,greedy,greedyRaw --offsets 19000,20000,21000,22000,23000,24000 (steady-state the first
 *   three); k-armed default,ts1 on the same offsets
 *
 * Where the default loses to greedy, and harder tempering again (README, Regret: "Where the regret is lost"), on
 * 24 seeds per one-hour world, the tuning offsets and the third and fourth sets' (T = 0,500,…,5500,13000,…,24000),
 * six in steady-state (0,1000,…,5000); none adopted:
 *   cold-start, preference-drift, model-blind-spot default,greedy --breakdown --windows 6   (tuning offsets)
 *   cold-start, preference-drift default,ts1,greedy,greedyRaw,thompson:t0.2:n1000,thompson:t0.2:n700,
 *     thompson:t0.25:n800,thompson:m10:t0.15,thompson:m10:t0.2,thompson:m30:t0.3,thompson:m40:t0.5,
 *     thompson:t0.3:n1000,thompson:low4 --offsets T
 *   cold-start, model-blind-spot default,ts1,greedy,greedyRaw,thompson:t0.2:n1000,thompson:low4,
 *     thompson:t0.2:n1000:low4,thompson:t0.15:n1000,thompson:t0.2:n1500,thompson:m30:t0.2:n1000,greedy:m60,
 *     thompson:low3 --offsets T
 *   preference-drift, steady-state default,ts1,greedy,greedyRaw,thompson:t0.2:n1000,thompson:t0.15:n1000,
 *     thompson:t0.2:n1500,thompson:t0.25:n1000 --offsets T
 *   cold-start default,ts1,greedy,greedyRaw,thompson:t0.2:n1000:nbar,thompson:t0.15:n1000:nbar,
 *     thompson:t0.1:n2000:nbar,thompson:t0.15:n2000:nbar --offsets T
 *   steady-state default,ts1,thompson:t0.15:n2000:nbar,thompson:t0.1:n2000:nbar,thompson:t0.2:n1000:nbar
 *   model-blind-spot, preference-drift, popularity-shock default,ts1,greedy,greedyRaw,thompson:t0.15:n2000:nbar
 *     --offsets T
 *   k-armed default,ts1,thompson:t0.15:n2000:nbar --offsets 0,1000,…,5000,7000,…,24000
 */
import { parseArgs } from 'node:util';
import { createRng } from '../../src/stats/rng.ts';
import { type Candidate, CandidatePolicy, parseCandidate } from '../bandit/candidate-policy.ts';
import { laiRobbinsConstant } from '../bandit/runner.ts';
import type { SimItem, SimUser } from '../world/population.ts';
import { loadScenario } from '../world/scenario.ts';
import { createWorld, type World } from '../world/world.ts';

const BASELINES = ['ts1', 'greedy', 'greedyRaw'];

/** The runner's random streams (simulator/bandit/runner.ts). */
const POLICY_STREAM = 7_000_003;
const RESPONSE_STREAM = 9_000_011;

/** Regret per time window (`--windows`), per candidate label, summed over the seeds. */
const windowed: Record<string, number[]> = {};

/** Examinations of the dealt item in its segment that bound the `--breakdown` classes. */
const YOUNG = [30, 150];
/** Regret per slot and per class of the dealt item's examinations (`--breakdown`), per candidate label. */
const bySlot: Record<string, number[]> = {};
const byExaminations: Record<string, number[]> = {};

/** Adds one slate's regret to the `--breakdown` sums: per slot, and by the dealt item's examinations. */
function breakDown(
  label: string,
  lost: readonly number[],
  slate: readonly SimItem[],
  examined: Float64Array,
): void {
  bySlot[label] ??= [];
  byExaminations[label] ??= new Array(YOUNG.length + 1).fill(0);
  for (let s = 0; s < slate.length; s++) {
    bySlot[label][s] = (bySlot[label][s] ?? 0) + lost[s];
    const e = examined[slate[s].index];
    const k = YOUNG.findIndex((bound) => e < bound);
    byExaminations[label][k < 0 ? YOUNG.length : k] += lost[s];
  }
}

/** Per slot, b(s)·(the oracle's s-th attractiveness − the dealt item's), which sum to the slate's regret. */
function slotLosses(world: World, user: SimUser, candidates: readonly SimItem[], slate: readonly SimItem[]) {
  const q = candidates.map((item) => world.model.attractiveness(user, item)).sort((a, b) => b - a);
  return slate.map((item, s) => world.model.bias[s] * (q[s] - world.model.attractiveness(user, item)));
}

/** The empirical-Bayes fits (m̂) of each candidate, over the seeds: the first and the second half of each run's. */
const fitted: Record<string, [number[], number[]]> = {};

function recordFits(label: string, fits: readonly number[]): void {
  if (fits.length === 0) return;
  fitted[label] ??= [[], []];
  const half = Math.floor(fits.length / 2);
  fitted[label][0].push(...fits.slice(0, half));
  fitted[label][1].push(...fits.slice(half));
}

/** The 10th, 25th, 50th, 75th and 90th percentile of `values`. */
function spread(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return [0.1, 0.25, 0.5, 0.75, 0.9].map((q) => at(q).toFixed(0)).join(' / ');
}

function play(
  name: string,
  seed: number,
  candidates: readonly Candidate[],
  windows: number,
  breakdown: boolean,
): Record<string, number> {
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
    const examined = world.segments.map(() => new Float64Array(1 << 14));
    let regret = 0;
    let oracle = 0;
    windowed[c.label] ??= new Array(windows).fill(0);
    windowed.oracle ??= new Array(windows).fill(0);
    const byWindow = windowed[c.label];
    const oracleByWindow = windowed.oracle;
    for (;;) {
      const session = world.nextSession();
      if (session.at >= world.durationSeconds) break;
      world.advance(session.at);
      const { user } = session;
      const score = (item: SimItem) => world.modelScore(user.segment, item);
      for (let r = 0; r < session.requests; r++) {
        const candidates = world.liveItems();
        const slate = policy.choose(user.segment, candidates, world.slots, score);
        if (breakdown)
          breakDown(c.label, slotLosses(world, user, candidates, slate), slate, examined[user.segment]);
        const outcomes = world.model.respond(responses, user, slate);
        for (let s = 0; s < slate.length; s++) {
          policy.observe(user.segment, slate[s], s, outcomes[s].clicked);
          examined[user.segment][slate[s].index] += outcomes[s].clicked ? 1 : 1 / (s + 1);
        }
        const best = world.model.oracleClicks(user, candidates, world.slots);
        const lost = best - world.model.expectedClicks(user, slate);
        const w = Math.min(windows - 1, Math.floor((windows * session.at) / world.durationSeconds));
        oracle += best;
        regret += lost;
        byWindow[w] += lost;
        if (p === 0) oracleByWindow[w] += best;
      }
    }
    out[c.label] = regret;
    out.oracle = oracle;
    recordFits(c.label, policy.fits);
  }
  return out;
}

/**
 * The K-armed bandit (one slot, p̂ = 1/2, m = 2 as the runner plays it, raw counts): each candidate's
 * pseudo-regret at 10⁴ pulls and at the scenario's pulls, over the Lai–Robbins bound at each.
 */
function playKArmed(name: string, seed: number, candidates: readonly Candidate[]): Record<string, number> {
  const scenario = loadScenario(name);
  if (scenario.kind !== 'k-armed') throw new Error(`${name} is not a K-armed scenario`);
  const best = Math.max(...scenario.arms);
  const constant = laiRobbinsConstant(scenario.arms);
  const checkpoints = [10_000, scenario.pulls];
  const out: Record<string, number> = {};
  for (const [p, c] of candidates.entries()) {
    const world = createWorld(scenario, { seed });
    const arms = world.liveItems();
    const policy = new CandidatePolicy(
      { ...c, m: 2, eta: undefined },
      createRng(seed + POLICY_STREAM + p),
      1,
      64,
    );
    const responses = createRng(seed + RESPONSE_STREAM);
    let regret = 0;
    for (let t = 1; t <= scenario.pulls; t++) {
      const [arm] = policy.choose(0, arms, 1, () => 0.5);
      const mean = arm.fixedCtr ?? 0;
      policy.observe(0, arm, 0, responses.next() < mean);
      regret += best - mean;
      if (t === checkpoints[0]) out[`${c.label}@1e4`] = regret / (constant * Math.log(t));
    }
    out[c.label] = regret / (constant * Math.log(scenario.pulls));
  }
  return out;
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    offsets: { type: 'string', default: '0,500,1000,1500,2000,2500,3000,3500,4000,4500,5000,5500' },
    windows: { type: 'string', default: '1' },
    breakdown: { type: 'boolean', default: false },
  },
});
const [scenarioName, list] = positionals;
if (scenarioName === undefined || list === undefined) {
  throw new Error('usage: candidate-sweep.ts <scenario> <candidate,…> [--offsets 0,500,…]');
}
const candidates = list.split(',').map(parseCandidate);
const scenario = loadScenario(scenarioName);
if (scenario.kind === 'k-armed') {
  const worst: Record<string, number> = {};
  for (const offset of (values.offsets ?? '').split(',').map(Number)) {
    const ratios = playKArmed(scenarioName, scenario.seed + offset, candidates);
    console.log(JSON.stringify({ scenario: scenarioName, seed: scenario.seed + offset, ...ratios }));
    for (const [label, v] of Object.entries(ratios)) worst[label] = Math.max(worst[label] ?? 0, v);
  }
  console.log(
    `\n${scenarioName}: the largest regret ÷ the Lai–Robbins bound over the seeds, at 10⁴ and at the end`,
  );
  for (const c of candidates) {
    console.log(
      `  ${c.label.padEnd(28)} ${worst[`${c.label}@1e4`].toFixed(3)}  ${worst[c.label].toFixed(3)}`,
    );
  }
  process.exit(0);
}
const windows = Math.max(1, Number(values.windows));
const totals: Record<string, number> = {};
for (const offset of (values.offsets ?? '').split(',').map(Number)) {
  const seed = scenario.seed + offset;
  const regret = play(scenarioName, seed, candidates, windows, values.breakdown ?? false);
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
if (windows > 1) {
  const reference = baselines.reduce((a, b) => (totals[a] <= totals[b] ? a : b));
  console.log(`\nregret per window (of ${windows}), as a share of the oracle, and ÷ ${reference}'s`);
  for (const c of candidates) {
    const cells = windowed[c.label].map((v, w) => {
      const share = (100 * v) / windowed.oracle[w];
      return `${share.toFixed(1)} % ${(v / windowed[reference][w]).toFixed(3)}`;
    });
    console.log(`  ${c.label.padEnd(28)} ${cells.join(' | ')}`);
  }
}
for (const [label, [early, late]] of Object.entries(fitted)) {
  console.log(
    `\n${label}: the fitted m̂ (10th / 25th / 50th / 75th / 90th percentile over segments, refits, seeds)`,
  );
  console.log(`  first half of each run  ${spread(early)}\n  second half             ${spread(late)}`);
}
if (values.breakdown) {
  const reference = baselines.reduce((a, b) => (totals[a] <= totals[b] ? a : b));
  const cells = (v: readonly number[], w: readonly number[]) =>
    v.map((x, i) => `${x.toFixed(0)} (${(x - w[i] >= 0 ? '+' : '') + (x - w[i]).toFixed(0)})`).join(' | ');
  console.log(`\nregret per slot, expected clicks (and minus ${reference}'s)`);
  for (const c of candidates)
    console.log(`  ${c.label.padEnd(28)} ${cells(bySlot[c.label], bySlot[reference])}`);
  console.log(
    `\nregret by the dealt item's examinations in its segment, < ${YOUNG.join(', ')}, more (and minus ${reference}'s)`,
  );
  for (const c of candidates) {
    console.log(`  ${c.label.padEnd(28)} ${cells(byExaminations[c.label], byExaminations[reference])}`);
  }
}
