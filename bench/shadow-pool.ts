/**
 * Pools runs of `npm run bench:shadow` over disjoint seed ranges (run side by side as halves, say) into one table,
 * seed by seed: each seed's figures are the same whichever run computed them, so the pooled table is the one a
 * single run over all the seeds prints. Prints the Markdown table of the README's "Shadow tests" section.
 *
 *   npx tsx bench/shadow-pool.ts bench/results/shadow-6001-6020.json bench/results/shadow-6021-6040.json
 */
import { readFileSync } from 'node:fs';
import { standardDeviation, wilsonInterval } from './seed-summary.ts';

interface Row {
  estimator: string;
  candidate: string;
  coverage: number;
  truthBelowInterval: number;
  truthAboveInterval: number;
  bias: number;
  meanRelativeError: number;
  intervalWidth: number;
  outsideSupport: number;
  effectiveSampleShare: number;
  standardizedErrors: number[];
  errors: number[];
}
interface Run {
  firstSeed: number;
  seeds: number;
  setting: unknown;
  rows: Row[];
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npx tsx bench/shadow-pool.ts <bench:shadow JSON> [<bench:shadow JSON> …]');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Run);
const setting = JSON.stringify(runs[0].setting);
const seeds = new Set<number>();
for (const [i, run] of runs.entries()) {
  if (JSON.stringify(run.setting) !== setting) {
    throw new Error(`${files[i]} ran another setting than ${files[0]}: pool only runs of one proof world`);
  }
  for (let s = run.firstSeed; s < run.firstSeed + run.seeds; s++) {
    if (seeds.has(s)) throw new Error(`seed ${s} is in two of the runs: pool only disjoint seed ranges`);
    seeds.add(s);
  }
}
const total = seeds.size;
/** A seed-weighted mean of one field over the runs. */
const pooledMean = (parts: { run: Run; row: Row }[], field: (r: Row) => number) =>
  parts.reduce((sum, { run, row }) => sum + field(row) * run.seeds, 0) / total;

const pct = (x: number, d = 1) => `${(100 * x).toFixed(d)} %`;
const signed = (x: number) => `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(4)}`;
console.log(
  `seeds ${[...seeds].sort((a, b) => a - b).join(',')} (${total}); setting ${setting}\n\n` +
    '| estimator | candidate | coverage [95 % over seeds] | truth below / above | sd of (estimate − truth) / SE | mean bias (CTR) | sd of error (CTR) | mean relative error | mean interval width | outside support | effective sample / impressions |\n' +
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
);
for (const first of runs[0].rows) {
  const parts = runs.map((run) => {
    const row = run.rows.find((r) => r.estimator === first.estimator && r.candidate === first.candidate);
    if (row === undefined) throw new Error(`a run has no row for ${first.estimator} × ${first.candidate}`);
    return { run, row };
  });
  const covered = parts.reduce((sum, { run, row }) => sum + Math.round(row.coverage * run.seeds), 0);
  const [lo, hi] = wilsonInterval(covered, total);
  const below = parts.reduce((sum, { row }) => sum + row.truthBelowInterval, 0);
  const above = parts.reduce((sum, { row }) => sum + row.truthAboveInterval, 0);
  const cells = [
    first.estimator.toUpperCase(),
    `\`${first.candidate}\``,
    `${pct(covered / total, 0)} [${Math.round(100 * lo)}, ${Math.round(100 * hi)}]`,
    `${below} / ${above}`,
    standardDeviation(parts.flatMap(({ row }) => row.standardizedErrors)).toFixed(2),
    signed(pooledMean(parts, (r) => r.bias)),
    standardDeviation(parts.flatMap(({ row }) => row.errors)).toFixed(4),
    pct(pooledMean(parts, (r) => r.meanRelativeError)),
    pooledMean(parts, (r) => r.intervalWidth).toFixed(4),
    pct(
      pooledMean(parts, (r) => r.outsideSupport),
      2,
    ),
    pct(pooledMean(parts, (r) => r.effectiveSampleShare)),
  ];
  console.log(`| ${cells.join(' | ')} |`);
}
