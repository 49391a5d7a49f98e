/**
 * The README's regret tables and curves: every world scenario, in process, croupier's default policy against
 * the baselines (`simulator/bandit/contenders.ts`), over the tuning seeds (the scenario's own, +1000, …, +5000)
 * and, separately, the held-out sets that no setting was chosen on (+7000, +8000, +9000; +10000, +11000,
 * +12000; and the third, six seeds +13000, …, +18000). Counts are kept
 * examination-weighted (the position-bias model on) for every policy; the default policy and the two
 * baselines that come close (untempered Thompson sampling, greedy) are also run on raw counts, and the last
 * column compares the default with the best baseline of either counting.
 *
 * Prints one Markdown table per seed set, writes the curves of each scenario's first seed of the third held-out set as SVG and
 * every figure as JSON.
 *
 *   npx tsx simulator/report/policy-table.ts [--seeds all|tuning,held-out,fresh,third,fourth,fifth] [--svg docs/img/regret-scenarios.svg]
 *     [--json bench/results/regret-scenarios.json] [--scenarios cold-start,…]
 *   npx tsx simulator/report/policy-table.ts --from a.json,b.json   (merges runs split with --scenarios)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { markdownTable, type Panel, renderSvg } from '../../src/report/charts.ts';
import {
  BASELINES,
  type Counting,
  contenders,
  DEFAULT_LABEL,
  fifthSeeds,
  fourthSeeds,
  freshSeeds,
  heldOutSeeds,
  thirdSeeds,
  tuningSeeds,
} from '../bandit/contenders.ts';
import { runInProcess } from '../bandit/runner.ts';
import { compareOverSeeds, type SeededComparison } from '../bandit/seeded-comparison.ts';
import { listScenarios, loadScenario, type WorldScenario } from '../world/scenario.ts';
import { cumulativeRegret } from './series.ts';

const { values: flags } = parseArgs({
  options: {
    seeds: { type: 'string', default: 'all' },
    svg: { type: 'string', default: 'docs/img/regret-scenarios.svg' },
    json: { type: 'string', default: 'bench/results/regret-scenarios.json' },
    /** Only these world scenarios (comma-separated): runs split over processes, merged with `--from`. */
    scenarios: { type: 'string' },
    /** No simulation: merge the JSON files of earlier runs (comma-separated), print and draw them. */
    from: { type: 'string' },
  },
});
const SEED_SETS = {
  tuning: tuningSeeds,
  'held-out': heldOutSeeds,
  fresh: freshSeeds,
  third: thirdSeeds,
  fourth: fourthSeeds,
  fifth: fifthSeeds,
} as const;
type SeedSet = keyof typeof SEED_SETS;
const isSeedSet = (set: string): set is SeedSet => Object.hasOwn(SEED_SETS, set);
const seedSets: SeedSet[] = [];
// `all` is every set this table has been run on; the fourth was run once with candidate-sweep.ts (README, Regret),
// the fifth is kept for the next change of the default (contenders.ts).
const RUN_SETS = ['tuning', 'held-out', 'fresh', 'third'];
for (const set of flags.seeds === 'all' ? RUN_SETS : (flags.seeds ?? 'all').split(',')) {
  if (!isSeedSet(set))
    throw new Error(`--seeds: all, or a list of tuning, held-out, fresh, third, fourth, fifth; got ${set}`);
  seedSets.push(set);
}

/** The baselines also run on raw counts (the others trail far behind on either counting). */
const RAW_BASELINES = ['thompson τ=1', 'greedy'];
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const percent = (x: number) => `${(100 * x).toFixed(1)} %`;

interface Row {
  scenario: string;
  seeds: number[];
  /** Regret share of the oracle's clicks per contender label, examination-weighted counts. */
  examination: Record<string, number>;
  /** The same on raw counts, for the default and `RAW_BASELINES`. */
  raw: Record<string, number>;
  /** Default ÷ best baseline on examination-weighted counts: over the seeds, and per seed. */
  ratio: number;
  perSeed: number[];
  /** Default ÷ the best baseline of either counting, over the seeds. */
  ratioEither: number;
  best: string;
}

function shares(comparison: SeededComparison): Record<string, number> {
  const oracle = sum(comparison.oracle);
  return Object.fromEntries(Object.entries(comparison.regret).map(([k, v]) => [k, sum(v) / oracle]));
}

function compare(scenario: WorldScenario, seeds: number[]): Row {
  const exam = compareOverSeeds(scenario, contenders('examination'), seeds);
  const raw = compareOverSeeds(scenario, contenders('raw' as Counting, RAW_BASELINES), seeds);
  const total = (c: SeededComparison, label: string) => sum(c.regret[label]);
  const mine = total(exam, DEFAULT_LABEL);
  const bestExam = Math.min(...BASELINES.map((b) => total(exam, b)));
  const bestRaw = Math.min(...RAW_BASELINES.map((b) => total(raw, b)));
  const best =
    bestRaw < bestExam
      ? `${RAW_BASELINES.find((b) => total(raw, b) === bestRaw)} (raw counts)`
      : (BASELINES.find((b) => total(exam, b) === bestExam) ?? '');
  return {
    scenario: scenario.name,
    seeds,
    examination: shares(exam),
    raw: shares(raw),
    ratio: mine / bestExam,
    perSeed: seeds.map(
      (_, j) => exam.regret[DEFAULT_LABEL][j] / Math.min(...BASELINES.map((b) => exam.regret[b][j])),
    ),
    ratioEither: mine / Math.min(bestExam, bestRaw),
    best,
  };
}

function table(rows: readonly Row[]): string {
  const bold = (row: Row, label: string) => {
    const value = percent(row.examination[label]);
    const least = Math.min(...[DEFAULT_LABEL, ...BASELINES].map((l) => row.examination[l]));
    return row.examination[label] === least ? `**${value}**` : value;
  };
  return markdownTable(
    [
      'scenario',
      'seeds',
      DEFAULT_LABEL,
      ...BASELINES,
      'default ÷ best baseline (per seed)',
      'raw counts: default / thompson τ=1 / greedy',
      'default ÷ best of either counting',
    ],
    rows.map((row) => [
      row.scenario,
      row.seeds.join(', '),
      bold(row, DEFAULT_LABEL),
      ...BASELINES.map((b) => bold(row, b)),
      `${row.ratio.toFixed(3)} (${Math.min(...row.perSeed).toFixed(2)}–${Math.max(...row.perSeed).toFixed(2)})`,
      [DEFAULT_LABEL, ...RAW_BASELINES].map((l) => percent(row.raw[l])).join(' / '),
      `${row.ratioEither.toFixed(3)} (best: ${row.best})`,
    ]),
  );
}

interface Saved {
  /** Rows per seed set, in scenario order. */
  results: Record<string, Row[]>;
  /** Cumulative regret curves, a panel per scenario. */
  panels: Panel[];
}

const worldNames = listScenarios().filter((name) => loadScenario(name).kind === 'world');

function curves(scenario: WorldScenario): Panel {
  const seed = thirdSeeds(scenario)[0];
  const report = runInProcess({
    scenario,
    seed,
    policies: contenders(
      'examination',
      BASELINES.filter((b) => b !== 'random'),
    ),
  });
  const hours = report.bucketSeconds / 3600;
  return {
    title: `${scenario.name} (seed ${seed})`,
    xLabel: 'simulated hours',
    yLabel: 'expected clicks lost',
    series: report.series.map((s) => ({
      label: s.label,
      points: [[0, 0] as const, ...cumulativeRegret(s).map((r, i) => [(i + 1) * hours, r] as const)],
    })),
  };
}

function simulate(names: readonly string[]): Saved {
  const worlds = names
    .map((name) => loadScenario(name))
    .filter((s): s is WorldScenario => s.kind === 'world');
  const results: Record<string, Row[]> = {};
  for (const set of seedSets) {
    results[set] = worlds.map((scenario) => {
      const row = compare(scenario, SEED_SETS[set](scenario));
      console.error(`${set}: ${scenario.name} done`);
      return row;
    });
  }
  return { results, panels: worlds.map(curves) };
}

/** Runs saved by separate processes (`--scenarios`), merged in scenario order. */
function merge(saved: readonly Saved[]): Saved {
  const order = (name: string) => worldNames.indexOf(name);
  const results: Record<string, Row[]> = {};
  for (const part of saved) {
    for (const [set, rows] of Object.entries(part.results)) results[set] = [...(results[set] ?? []), ...rows];
  }
  for (const rows of Object.values(results)) rows.sort((a, b) => order(a.scenario) - order(b.scenario));
  const panels = saved.flatMap((part) => part.panels);
  panels.sort((a, b) => order(a.title.split(' ')[0]) - order(b.title.split(' ')[0]));
  return { results, panels };
}

const saved =
  flags.from !== undefined
    ? merge(flags.from.split(',').map((path) => JSON.parse(readFileSync(path, 'utf8')) as Saved))
    : simulate(flags.scenarios === undefined ? worldNames : flags.scenarios.split(','));
for (const [set, rows] of Object.entries(saved.results)) {
  console.log(
    `\n${set} seeds (regret as a share of the oracle's expected clicks, examination-weighted counts)\n`,
  );
  console.log(table(rows));
}
writeFileSync(
  flags.svg,
  renderSvg(
    'cumulative regret per scenario (held-out seed, in process, position-bias model on)',
    saved.panels,
  ),
);
writeFileSync(flags.json, `${JSON.stringify(saved, null, 2)}\n`);
console.log(`\nwrote ${flags.svg} and ${flags.json}`);
