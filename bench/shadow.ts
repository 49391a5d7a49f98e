/**
 * The accuracy of shadow tests over many seeds: for each seed (fixed in advance: 1..SEEDS), traffic logged under
 * Thompson sampling in the proof world (simulator/shadow/proof-world.ts), every candidate estimated with IPS,
 * SNIPS and DR (95 % bootstrap intervals by carousel) and compared with its on-policy CTR in the same world, seed
 * and state. Prints the table estimator × candidate (coverage of the truth by the interval, with its own 95 %
 * Wilson interval over the seeds and the misses on each side; the spread of the standardized errors; mean bias,
 * mean relative error, mean interval width, the share of the candidate's mass outside the log's support and its
 * effective sample size per impression) and writes bench/results/shadow.json, with each cell's per-seed errors.
 *
 *   npm run bench:shadow [-- --first-seed 1 --seeds 40 --carousels 10000 --replicates 300 --out bench/results/shadow.json]
 *     [--base-logit=X and the other settings of bench/shadow-support.ts; each defaults to PROOF_SETTING's]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROOF_CANDIDATES, runProofSeed, shadowProofScenario } from '../simulator/shadow/proof-world.ts';
import { textTable } from '../src/report/charts.ts';
import { ESTIMATORS } from '../src/shadow/estimators.ts';
import { evaluateShadow } from '../src/shadow/evaluate-shadow.ts';
import { PROOF_SETTING_OPTIONS, proofSettingFrom } from './proof-setting-args.ts';
import { standardDeviation, wilsonInterval } from './seed-summary.ts';

const { values: args } = parseArgs({
  options: {
    'first-seed': { type: 'string', default: '1' },
    seeds: { type: 'string', default: '40' },
    ...PROOF_SETTING_OPTIONS,
    replicates: { type: 'string', default: '300' },
    out: { type: 'string', default: join('bench', 'results', 'shadow.json') },
  },
});
const FIRST_SEED = Number(args['first-seed']);
const SEEDS = Number(args.seeds);
const SETTING = proofSettingFrom(args);
const CAROUSELS = SETTING.carousels;
const REPLICATES = Number(args.replicates);

interface Cell {
  covered: number;
  /** Seeds whose truth lies below the interval, above it. */
  below: number;
  above: number;
  /** (estimate − truth) / bootstrap SE per seed. */
  z: number[];
  bias: number;
  /** estimate − truth per seed: its mean is the bias, its sd the estimator's spread over seeds. */
  errors: number[];
  relativeError: number;
  width: number;
  outside: number;
  /** Effective sample size over impressions. */
  ess: number;
}

const cells = new Map<string, Cell>();
const cell = (key: string) => {
  let c = cells.get(key);
  if (c === undefined) {
    c = {
      covered: 0,
      below: 0,
      above: 0,
      z: [],
      bias: 0,
      errors: [],
      relativeError: 0,
      width: 0,
      outside: 0,
      ess: 0,
    };
    cells.set(key, c);
  }
  return c;
};
const started = Date.now();
const loadBefore = os.loadavg();
for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
  const run = runProofSeed(seed, CAROUSELS, undefined, SETTING);
  const report = evaluateShadow(run.carousels, PROOF_CANDIDATES, {
    replicates: REPLICATES,
    seed,
    intervalsFor: ['ctr'],
  });
  for (const candidate of report.candidates) {
    const truth = run.truth[candidate.label];
    for (const estimator of ESTIMATORS) {
      const e = candidate.metrics.ctr.estimates[estimator];
      const c = cell(`${estimator}|${candidate.label}`);
      c.covered += e.ci[0] <= truth && truth <= e.ci[1] ? 1 : 0;
      c.below += truth < e.ci[0] ? 1 : 0;
      c.above += truth > e.ci[1] ? 1 : 0;
      c.z.push((e.estimate - truth) / e.se);
      c.bias += (e.estimate - truth) / SEEDS;
      c.errors.push(e.estimate - truth);
      c.relativeError += Math.abs(e.estimate - truth) / truth / SEEDS;
      c.width += (e.ci[1] - e.ci[0]) / SEEDS;
      c.outside += (candidate.diagnostics.outsideSupport ?? 0) / SEEDS;
      const weights = estimator.startsWith('pbm-')
        ? candidate.diagnostics.positionBased
        : candidate.diagnostics;
      c.ess += weights.effectiveSampleSize / report.impressions / SEEDS;
    }
  }
  process.stderr.write(
    `seed ${seed} (${seed - FIRST_SEED + 1}/${SEEDS}) done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
  );
}
const rows = [...cells.entries()].map(([key, c]) => {
  const [estimator, candidate] = key.split('|');
  return {
    estimator,
    candidate,
    coverage: c.covered / SEEDS,
    coverageInterval: wilsonInterval(c.covered, SEEDS),
    truthBelowInterval: c.below,
    truthAboveInterval: c.above,
    standardizedErrorSd: standardDeviation(c.z),
    bias: c.bias,
    errorSd: standardDeviation(c.errors),
    meanRelativeError: c.relativeError,
    intervalWidth: c.width,
    outsideSupport: c.outside,
    effectiveSampleShare: c.ess,
    /** Per seed, in seed order: (estimate − truth) / SE and estimate − truth, so runs over seed ranges can be pooled. */
    standardizedErrors: c.z,
    errors: c.errors,
  };
});
const pct = (x: number, d = 1) => `${(100 * x).toFixed(d)} %`;
console.log(
  textTable(
    [
      'estimator',
      'candidate',
      'coverage [95% over seeds]',
      'misses below/above',
      'sd of z',
      'bias',
      'sd of error',
      'mean rel. error',
      'interval width',
      'outside support',
      'ESS / impressions',
    ],
    rows.map((r) => [
      r.estimator.toUpperCase(),
      r.candidate,
      `${pct(r.coverage, 0)} [${pct(r.coverageInterval[0], 0)}, ${pct(r.coverageInterval[1], 0)}]`,
      `${r.truthBelowInterval}/${r.truthAboveInterval}`,
      r.standardizedErrorSd.toFixed(2),
      r.bias.toFixed(4),
      r.errorSd.toFixed(4),
      pct(r.meanRelativeError),
      r.intervalWidth.toFixed(4),
      pct(r.outsideSupport, 2),
      pct(r.effectiveSampleShare),
    ]),
  ),
);
const result = {
  firstSeed: FIRST_SEED,
  seeds: SEEDS,
  carouselsPerSeed: CAROUSELS,
  replicates: REPLICATES,
  world: shadowProofScenario(SETTING).name,
  setting: SETTING,
  candidates: PROOF_CANDIDATES.map((c) => c.label),
  rows,
  seconds: (Date.now() - started) / 1000,
  loadAverage: { before: loadBefore, after: os.loadavg() },
};
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${args.out} (${result.seconds.toFixed(0)} s, load ${os.loadavg()[0].toFixed(1)})`);
