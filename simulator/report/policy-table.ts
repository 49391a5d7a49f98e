/**
 * The README's policy table and regret curves: every world scenario over three fixed seeds (the scenario's own,
 * +1000, +2000, chosen before any result was seen), each exploration policy of the decision core in process.
 * Prints the Markdown table (regret as a share of the oracle's expected clicks over the three seeds, and the
 * default policy's total regret over the best baseline's) and writes the curves of each scenario's own seed.
 *
 *   npx tsx simulator/report/policy-table.ts [docs/img/regret-scenarios.svg]
 */
import { writeFileSync } from 'node:fs';
import { gatewaySchema } from '../../src/config/schema.ts';
import { markdownTable, type Panel, renderSvg } from '../../src/report/charts.ts';
import { SIM_POLICIES } from '../bandit/policies.ts';
import { runInProcess } from '../bandit/runner.ts';
import { bestOf, compareOverSeeds, ratioToBest, regretShare } from '../bandit/seeded-comparison.ts';
import { listScenarios, loadScenario } from '../world/scenario.ts';
import { cumulativeRegret } from './series.ts';

/** The gateway's default policy (`gateway.policy`). */
const DEFAULT_POLICY = gatewaySchema.parse({}).policy;
const out = process.argv[2] ?? 'docs/img/regret-scenarios.svg';
const percent = (x: number) => `${(100 * x).toFixed(1)} %`;
const rows: string[][] = [];
const panels: Panel[] = [];
for (const name of listScenarios()) {
  const scenario = loadScenario(name);
  if (scenario.kind !== 'world') continue;
  const comparison = compareOverSeeds(scenario, SIM_POLICIES);
  const best = bestOf(comparison, SIM_POLICIES);
  const perSeed = comparison.seeds.map((_, j) => {
    const min = Math.min(...SIM_POLICIES.map((p) => comparison.regret[p][j]));
    return comparison.regret[DEFAULT_POLICY][j] / min;
  });
  rows.push([
    name,
    comparison.seeds.join(', '),
    ...SIM_POLICIES.map((p) =>
      p === best.policy ? `**${percent(regretShare(comparison, p))}**` : percent(regretShare(comparison, p)),
    ),
    `${ratioToBest(comparison, DEFAULT_POLICY, SIM_POLICIES).toFixed(2)} (${Math.min(...perSeed).toFixed(2)}–${Math.max(...perSeed).toFixed(2)})`,
  ]);
  const report = runInProcess({ scenario, policies: SIM_POLICIES.filter((p) => p !== 'random') });
  const hours = report.bucketSeconds / 3600;
  panels.push({
    title: `${name} (seed ${report.seed})`,
    xLabel: 'simulated hours',
    yLabel: 'expected clicks lost',
    series: report.series.map((s) => ({
      label: s.label,
      points: [[0, 0] as const, ...cumulativeRegret(s).map((r, i) => [(i + 1) * hours, r] as const)],
    })),
  });
  console.error(`${name} done`);
}
writeFileSync(
  out,
  renderSvg('cumulative regret per scenario (seeded, in process; uniform random left out)', panels),
);
console.log(
  markdownTable(['scenario', 'seeds', ...SIM_POLICIES, `${DEFAULT_POLICY} ÷ best (per seed)`], rows),
);
console.log(`wrote ${out}`);
