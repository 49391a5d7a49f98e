/**
 * How much of each proof candidate's (item, slot) mass lies where the logging policy (almost) never deals, in a
 * proof world with the given setting: the measurement that chooses the proof's setting (simulator/shadow/
 * proof-world.ts) before any accuracy is looked at. For each seed, traffic is logged under Thompson sampling,
 * and at every logged decision each candidate deals one slate; for each of its (item, slot)s the logging
 * policy's probability is integrated (the gateway's own integral). Prints, per candidate, the share of that mass
 * with a logging probability below 1e-4 (what `croupier shadow` reports as outside the support), 1e-3 and 1e-2,
 * the candidate's largest weight and effective sample size (ESS) with the relative standard error it implies for
 * IPS of a click rate v, √((1 − v) / (v · ESS)), and the logged and candidate CTRs.
 *
 *   npx tsx bench/shadow-support.ts [--first-seed 901] [--seeds 5] [--carousels N] [--items N]
 *     [--popularity-sd X] [--base-logit=X] [--taste-weight X] [--model-noise-sd X] [--prior-strength M]
 *     [--temperature T] [--position-bias true|false]
 *
 * Every setting defaults to the proof's (PROOF_SETTING); a negative value goes after `=`.
 */
import { parseArgs } from 'node:util';
import { PROOF_CANDIDATES, runProofSeed } from '../simulator/shadow/proof-world.ts';
import { textTable } from '../src/report/charts.ts';
import { weightDiagnostics } from '../src/shadow/estimators.ts';
import { loggedPolicy, PolicyReplay, resolvePolicy } from '../src/shadow/policy-replay.ts';
import { createRng } from '../src/stats/rng.ts';
import { PROOF_SETTING_OPTIONS, proofSettingFrom } from './proof-setting-args.ts';
import { mean } from './seed-summary.ts';

const { values: args } = parseArgs({
  options: {
    'first-seed': { type: 'string', default: '901' },
    seeds: { type: 'string', default: '5' },
    ...PROOF_SETTING_OPTIONS,
  },
});
const FIRST = Number(args['first-seed']);
const SEEDS = Number(args.seeds);
const setting = proofSettingFrom(args);
const FLOORS = [1e-4, 1e-3, 1e-2];

interface Row {
  below: number[][];
  ess: number[];
  /** The relative standard error the effective sample size implies for IPS: √((1 − v) / (v · ESS)). */
  relativeSe: number[];
  largest: number[];
  truth: number[];
}
const rows = PROOF_CANDIDATES.map(
  (): Row => ({ below: FLOORS.map(() => []), ess: [], relativeSe: [], largest: [], truth: [] }),
);
const logged: number[] = [];
const replay = new PolicyReplay();
let probabilities = new Float64Array(16);
for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
  const run = runProofSeed(seed, setting.carousels, undefined, setting);
  logged.push(run.loggedCtr);
  const rng = createRng(seed);
  for (const [k, spec] of PROOF_CANDIDATES.entries()) {
    const below = FLOORS.map(() => 0);
    let dealt = 0;
    const weights: number[] = [];
    for (const carousel of run.carousels) {
      const set = carousel.candidates;
      if (set === null) continue;
      const count = carousel.items.length;
      if (probabilities.length < count) probabilities = new Float64Array(count);
      const logging = loggedPolicy(carousel.policy, set);
      const index = new Map(set.itemIds.map((id, i) => [id, i]));
      const shown = Int32Array.from(carousel.items, (item) => index.get(item.itemId) ?? -1);
      replay.load(set, set.scores, resolvePolicy(spec, logging));
      replay.probabilities(shown, count, rng, probabilities);
      for (let s = 0; s < count; s++) weights.push(probabilities[s] / carousel.items[s].propensity);
      const slate = Int32Array.from(replay.deal(count, rng).subarray(0, count));
      replay.load(set, set.scores, logging);
      replay.probabilities(slate, count, rng, probabilities);
      for (let s = 0; s < count; s++) {
        FLOORS.forEach((floor, f) => {
          if (probabilities[s] < floor) below[f]++;
        });
      }
      dealt += count;
    }
    const d = weightDiagnostics(Float64Array.from(weights));
    for (let f = 0; f < FLOORS.length; f++) rows[k].below[f].push(below[f] / dealt);
    rows[k].ess.push(d.effectiveSampleSize / weights.length);
    const v = run.truth[spec.label];
    rows[k].relativeSe.push(Math.sqrt((1 - v) / (v * d.effectiveSampleSize)));
    rows[k].largest.push(d.largestWeight);
    rows[k].truth.push(run.truth[spec.label]);
  }
  process.stderr.write(`seed ${seed} done\n`);
}
const pct = (x: number, digits = 2) => `${(100 * x).toFixed(digits)} %`;
console.log(`setting ${JSON.stringify(setting)}, seeds ${FIRST}-${FIRST + SEEDS - 1}`);
console.log(`logged CTR ${mean(logged).toFixed(4)}`);
console.log(
  textTable(
    [
      'candidate',
      'CTR',
      'mass < 1e-4 (mean, max)',
      'mass < 1e-3',
      'mass < 1e-2',
      'ESS / impressions',
      'implied relative SE',
      'largest weight (max)',
    ],
    PROOF_CANDIDATES.map((spec, k) => {
      const r = rows[k];
      return [
        spec.label,
        mean(r.truth).toFixed(4),
        `${pct(mean(r.below[0]))}, ${pct(Math.max(...r.below[0]))}`,
        pct(mean(r.below[1])),
        pct(mean(r.below[2])),
        pct(mean(r.ess), 1),
        pct(mean(r.relativeSe), 1),
        Math.max(...r.largest).toFixed(0),
      ];
    }),
  ),
);
