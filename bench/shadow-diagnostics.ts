/**
 * Why a shadow interval misses the truth, seed by seed, for the candidates the proof log supports (greedy, and
 * Thompson sampling with prior strength 100) in the proof world of bench:shadow (simulator/shadow/proof-world.ts):
 *
 * - coverage of the truth by the IPS, SNIPS and DR 95 % bootstrap intervals (resampled by carousel), with a Wilson
 *   interval over the seeds, and the spread of the standardized errors (estimate − truth) / bootstrap SE;
 * - the click noise alone: greedy's IPS minus the same sum with every click replaced by its true probability
 *   b(s)·q(u, i), over the exact sd of that noise √Σ w²·p(1 − p) / N. It is what a correct interval has to cover,
 *   and its spread is 1 whatever the bootstrap does.
 *
 * With --deep, also (costly): the logged propensities against the frequencies of 4,000 slates the logging policy
 * deals at every 50th logged state; the truth from one dealt slate per state against the mean of 64; each estimate
 * with every click replaced by its probability (the error the slates and weights make, SNIPS's ratio bias included,
 * in units of the real bootstrap SE); and the standard error of greedy's IPS with carousels clustered by user
 * against resampling carousels.
 *
 * - per candidate, its IPS taken apart the same way with its own weights: the click noise over its exact sd, the
 *   bootstrap SE over that exact sd, the slate noise (Σ w·p / N − truth, what the logging policy's choice of slates
 *   leaves) in bootstrap SEs, and the weights' largest value and effective sample size.
 *
 *   npx tsx bench/shadow-diagnostics.ts [--first-seed 1] [--seeds 40] [--carousels 10000] [--replicates 300] [--deep]
 *     [--out bench/results/shadow-diagnostics.jsonl]
 *
 * Prints the summary and writes one JSON line per seed to the --out file.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { PROOF_CANDIDATES, runProofSeed, shadowProofScenario } from '../simulator/shadow/proof-world.ts';
import type { SimItem, SimUser } from '../simulator/world/population.ts';
import { createWorld } from '../simulator/world/world.ts';
import { ESTIMATORS } from '../src/shadow/estimators.ts';
import { evaluateShadow } from '../src/shadow/evaluate-shadow.ts';
import type { LoggedCarousel } from '../src/shadow/logged-carousel.ts';
import { loggedPolicy, PolicyReplay, resolvePolicy } from '../src/shadow/policy-replay.ts';
import { createRng } from '../src/stats/rng.ts';
import { mean, standardDeviation as sd, wilsonInterval } from './seed-summary.ts';

const { values: args } = parseArgs({
  options: {
    'first-seed': { type: 'string', default: '1' },
    seeds: { type: 'string', default: '40' },
    carousels: { type: 'string', default: '10000' },
    replicates: { type: 'string', default: '300' },
    deep: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/shadow-diagnostics.jsonl' },
  },
});
const FIRST = Number(args['first-seed']);
const SEEDS = Number(args.seeds);
const CAROUSELS = Number(args.carousels);
const REPLICATES = Number(args.replicates);
const CANDIDATES = PROOF_CANDIDATES.filter((c) => c.policy === 'greedy' || c.policy === 'thompson');
const GREEDY = CANDIDATES[0];
const OUT = args.out;

type Estimates = Record<string, { estimate: number; se: number; ci: [number, number] }>;

interface SeedRecord {
  seed: number;
  truth: Record<string, number>;
  /** Greedy IPS's click noise over its exact sd. */
  clickNoiseZ: number;
  estimates: Record<string, Estimates>;
  /** Per candidate: its IPS taken apart with the world's click probabilities (see `oracleIps`). */
  oracle?: Record<string, OracleIps>;
  deep?: {
    /** Mean of (frequency in 4,000 logging draws) / (logged propensity), over logged (item, slot)s. */
    loggedPropensityRatio: number;
    /** The same for greedy's (item, slot)s with a logging probability of 1 % or more. */
    greedyPropensityRatio: number;
    /** Truth from 64 dealt slates per state. */
    truth64: Record<string, number>;
    /** Estimates with every click replaced by its probability. */
    noiseless: Record<string, Record<string, number>>;
    /** Greedy IPS's SE with carousels clustered by user, over its SE by carousel. */
    userOverCarouselSe: number;
  };
}

/** The world's users and items by id, and a shown item's click probability b(s)·q(u, i). */
function oracle(seed: number) {
  const world = createWorld(shadowProofScenario(), { seed });
  const users = new Map<string, SimUser>(world.users.map((u) => [u.userId, u]));
  const items = new Map<string, SimItem>(world.items.map((i) => [i.itemId, i]));
  return {
    clickProbability: (userId: string, itemId: string, slot: number) =>
      world.model.clickProbability(users.get(userId)!, items.get(itemId)!, slot),
  };
}

/** Greedy's IPS term per carousel: Σ_s 1{logged item is greedy's} · click / propensity, and its exact click noise. */
function greedyIps(carousels: readonly LoggedCarousel[], probability: ReturnType<typeof oracle>) {
  const replay = new PolicyReplay();
  const rng = createRng(5);
  const terms = new Float64Array(carousels.length);
  let impressions = 0;
  let noise = 0;
  let noiseVariance = 0;
  carousels.forEach((c, t) => {
    const set = c.candidates!;
    const count = c.items.length;
    replay.load(set, set.scores, resolvePolicy(GREEDY, loggedPolicy(c.policy, set)));
    const slate = replay.deal(count, rng);
    for (let s = 0; s < count; s++) {
      if (set.itemIds[slate[s]] !== c.items[s].itemId) continue;
      const w = 1 / c.items[s].propensity;
      const p = probability.clickProbability(c.userId, c.items[s].itemId, s);
      terms[t] += w * c.clicks[s];
      noise += w * (c.clicks[s] - p);
      noiseVariance += w * w * p * (1 - p);
    }
    impressions += count;
  });
  return { terms, impressions, clickNoiseZ: noise / Math.sqrt(noiseVariance) };
}

/**
 * A candidate's IPS taken apart with the world's click probabilities p, its weights w = π/μ those of the estimator:
 * IPS − truth = click noise Σ w(c − p)/N + slate noise (Σ w·p/N − truth). The click noise's exact sd √Σ w²p(1 − p)/N
 * needs no estimate of spread; the slate noise is what the logging policy's choice of slates leaves.
 */
interface OracleIps {
  /** Click noise over its exact sd. */
  clickNoiseZ: number;
  /** Exact sd of the click noise (CTR units). */
  clickSe: number;
  /** Σ w·p / N − truth (CTR units). */
  slateNoise: number;
  largestWeight: number;
  /** Kish's effective sample size over the impressions, as a share of them. */
  essShare: number;
}

function oracleIps(
  carousels: readonly LoggedCarousel[],
  spec: (typeof CANDIDATES)[number],
  truth: number,
  probability: ReturnType<typeof oracle>,
  seed: number,
): OracleIps {
  const replay = new PolicyReplay();
  const rng = createRng(seed * 17 + 3);
  let pi = new Float64Array(16);
  let shown = new Int32Array(16);
  /** Σ w(c − p), Σ w²p(1 − p), Σ w·p, Σ w, Σ w², the largest w, and the impressions. */
  const sum = { noise: 0, variance: 0, expected: 0, w: 0, w2: 0, largest: 0, impressions: 0 };
  for (const c of carousels) {
    const set = c.candidates!;
    const count = c.items.length;
    if (pi.length < count) {
      pi = new Float64Array(count);
      shown = new Int32Array(count);
    }
    for (let s = 0; s < count; s++) shown[s] = set.itemIds.indexOf(c.items[s].itemId);
    replay.load(set, set.scores, resolvePolicy(spec, loggedPolicy(c.policy, set)));
    replay.probabilities(shown, count, rng, pi);
    for (let s = 0; s < count; s++) {
      const w = pi[s] / c.items[s].propensity;
      const p = probability.clickProbability(c.userId, c.items[s].itemId, s);
      sum.noise += w * (c.clicks[s] - p);
      sum.variance += w * w * p * (1 - p);
      sum.expected += w * p;
      sum.w += w;
      sum.w2 += w * w;
      sum.largest = Math.max(sum.largest, w);
    }
    sum.impressions += count;
  }
  return {
    clickNoiseZ: sum.noise / Math.sqrt(sum.variance),
    clickSe: Math.sqrt(sum.variance) / sum.impressions,
    slateNoise: sum.expected / sum.impressions - truth,
    largestWeight: sum.largest,
    essShare: (sum.w * sum.w) / sum.w2 / sum.impressions,
  };
}

function estimatesOf(carousels: readonly LoggedCarousel[], seed: number, replicates: number) {
  const report = evaluateShadow(carousels, CANDIDATES, { replicates, seed, supportCheck: false });
  const out: Record<string, Estimates> = {};
  for (const c of report.candidates) {
    out[c.label] = {};
    for (const e of ESTIMATORS) {
      const { estimate, se, ci } = c.metrics.ctr.estimates[e];
      out[c.label][e] = { estimate, se, ci };
    }
  }
  return out;
}

function deepChecks(
  seed: number,
  carousels: readonly LoggedCarousel[],
  probability: ReturnType<typeof oracle>,
  terms: Float64Array,
  impressions: number,
): NonNullable<SeedRecord['deep']> {
  const replay = new PolicyReplay();
  const rng = createRng(seed * 31 + 5);
  const probabilities = new Float64Array(16);
  let logged = 0;
  let loggedN = 0;
  let greedy = 0;
  let greedyN = 0;
  const DRAWS = 4000;
  for (let t = 0; t < carousels.length; t += 50) {
    const c = carousels[t];
    const set = c.candidates!;
    const count = c.items.length;
    const logging = loggedPolicy(c.policy, set);
    replay.load(set, set.scores, resolvePolicy(GREEDY, logging));
    const greedySlate = Int32Array.from(replay.deal(count, rng).subarray(0, count));
    const shown = Int32Array.from(c.items.map((item) => set.itemIds.indexOf(item.itemId)));
    replay.load(set, set.scores, logging);
    replay.probabilities(greedySlate, count, rng, probabilities);
    const hitsGreedy = new Float64Array(count);
    const hitsShown = new Float64Array(count);
    for (let d = 0; d < DRAWS; d++) {
      const order = replay.deal(count, rng);
      for (let s = 0; s < count; s++) {
        if (order[s] === greedySlate[s]) hitsGreedy[s]++;
        if (order[s] === shown[s]) hitsShown[s]++;
      }
    }
    for (let s = 0; s < count; s++) {
      if (probabilities[s] >= 0.01) {
        greedy += hitsGreedy[s] / DRAWS / probabilities[s];
        greedyN++;
      }
      logged += hitsShown[s] / DRAWS / c.items[s].propensity;
      loggedN++;
    }
  }
  const sums = new Float64Array(CANDIDATES.length);
  for (const c of carousels) {
    const set = c.candidates!;
    const count = c.items.length;
    CANDIDATES.forEach((spec, k) => {
      replay.load(set, set.scores, resolvePolicy(spec, loggedPolicy(c.policy, set)));
      const draws = spec.policy === 'thompson' ? 64 : 1;
      for (let d = 0; d < draws; d++) {
        const order = replay.deal(count, rng);
        for (let s = 0; s < count; s++)
          sums[k] += probability.clickProbability(c.userId, set.itemIds[order[s]], s) / draws;
      }
    });
  }
  const truth64: Record<string, number> = {};
  CANDIDATES.forEach((spec, k) => {
    truth64[spec.label] = sums[k] / impressions;
  });
  const noiseless = estimatesOf(
    carousels.map((c) => ({
      ...c,
      clicks: c.items.map((item, s) => probability.clickProbability(c.userId, item.itemId, s)),
    })),
    seed,
    20,
  );
  let mean = 0;
  for (const x of terms) mean += x / terms.length;
  let byCarousel = 0;
  const byUser = new Map<string, number>();
  carousels.forEach((c, t) => {
    byCarousel += (terms[t] - mean) ** 2;
    byUser.set(c.userId, (byUser.get(c.userId) ?? 0) + terms[t] - mean);
  });
  let clustered = 0;
  for (const v of byUser.values()) clustered += v * v;
  return {
    loggedPropensityRatio: logged / loggedN,
    greedyPropensityRatio: greedy / greedyN,
    truth64,
    noiseless: Object.fromEntries(
      Object.entries(noiseless).map(([label, e]) => [
        label,
        Object.fromEntries(Object.entries(e).map(([name, x]) => [name, x.estimate])),
      ]),
    ),
    userOverCarouselSe: Math.sqrt(clustered / byCarousel),
  };
}

const loadBefore = loadavg();
mkdirSync('bench/results', { recursive: true });
writeFileSync(OUT, '');
const records: SeedRecord[] = [];
for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
  const run = runProofSeed(seed, CAROUSELS);
  const probability = oracle(seed);
  const { terms, impressions, clickNoiseZ } = greedyIps(run.carousels, probability);
  const record: SeedRecord = {
    seed,
    truth: run.truth,
    clickNoiseZ,
    estimates: estimatesOf(run.carousels, seed, REPLICATES),
    oracle: Object.fromEntries(
      CANDIDATES.map((spec) => [
        spec.label,
        oracleIps(run.carousels, spec, run.truth[spec.label], probability, seed),
      ]),
    ),
  };
  if (args.deep) record.deep = deepChecks(seed, run.carousels, probability, terms, impressions);
  records.push(record);
  appendFileSync(OUT, `${JSON.stringify(record)}\n`);
  process.stderr.write(`seed ${seed} done\n`);
}

const n = records.length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (x: number) => `${Math.round(100 * x)} %`;
console.log(
  `seeds ${FIRST}–${FIRST + n - 1}, ${CAROUSELS} carousels each, ${REPLICATES} resamples (load average before ${loadBefore.map((x) => x.toFixed(1)).join(' ')}, after ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')})`,
);
const noise = records.map((r) => r.clickNoiseZ);
console.log(
  `greedy IPS, click noise over its exact sd: mean ${mean(noise).toFixed(2)}, sd ${sd(noise).toFixed(2)}, beyond ±1.96 in ${noise.filter((z) => Math.abs(z) > 1.96).length} of ${n} seeds`,
);
for (const spec of CANDIDATES) {
  for (const e of ESTIMATORS) {
    const z: number[] = [];
    let covered = 0;
    let below = 0;
    let above = 0;
    for (const r of records) {
      const x = r.estimates[spec.label][e];
      const truth = r.truth[spec.label];
      covered += x.ci[0] <= truth && truth <= x.ci[1] ? 1 : 0;
      below += truth < x.ci[0] ? 1 : 0;
      above += truth > x.ci[1] ? 1 : 0;
      z.push((x.estimate - truth) / x.se);
    }
    const [lo, hi] = wilsonInterval(covered, n);
    let line = `${e.toUpperCase().padEnd(5)} ${spec.label.padEnd(34)} coverage ${pct(covered / n)} [${pct(lo)}, ${pct(hi)}] (${covered}/${n}), truth below/above ${below}/${above}, sd of z ${sd(z).toFixed(2)}, mean z ${mean(z).toFixed(2)}`;
    if (args.deep) {
      const slates = records.map(
        (r) =>
          (r.deep!.noiseless[spec.label][e] - r.deep!.truth64[spec.label]) / r.estimates[spec.label][e].se,
      );
      line += `; without click noise: error/SE mean ${mean(slates).toFixed(3)}, sd ${sd(slates).toFixed(3)}`;
    }
    console.log(line);
  }
}
for (const spec of CANDIDATES) {
  const o = records.map((r) => r.oracle![spec.label]);
  const z = o.map((x) => x.clickNoiseZ);
  const ratio = records.map((r, i) => r.estimates[spec.label].ips.se / o[i].clickSe);
  const slate = records.map((r, i) => o[i].slateNoise / r.estimates[spec.label].ips.se);
  console.log(
    `${spec.label} IPS, click noise over its exact sd: sd ${sd(z).toFixed(2)}, beyond ±1.96 in ${z.filter((x) => Math.abs(x) > 1.96).length} of ${n}; bootstrap SE / exact click sd: mean ${mean(ratio).toFixed(3)} (${Math.min(...ratio).toFixed(2)}–${Math.max(...ratio).toFixed(2)}); slate noise / bootstrap SE: mean ${mean(slate).toFixed(3)}, sd ${sd(slate).toFixed(3)}; largest weight median ${median(o.map((x) => x.largestWeight)).toFixed(0)}, ESS share median ${median(o.map((x) => x.essShare)).toFixed(3)}`,
  );
}
if (args.deep) {
  const deep = records.map((r) => r.deep!);
  console.log(
    `logging frequency / logged propensity: ${mean(deep.map((d) => d.loggedPropensityRatio)).toFixed(4)} (shown items), ${mean(deep.map((d) => d.greedyPropensityRatio)).toFixed(4)} (greedy's items)`,
  );
  for (const spec of CANDIDATES) {
    const gap = records.map((r) => r.truth[spec.label] - r.deep!.truth64[spec.label]);
    console.log(`${spec.label}: truth of one dealt slate − of 64, sd ${sd(gap).toExponential(1)}`);
  }
  console.log(
    `greedy IPS SE, carousels clustered by user / by carousel: ${mean(deep.map((d) => d.userOverCarouselSe)).toFixed(3)}`,
  );
}
