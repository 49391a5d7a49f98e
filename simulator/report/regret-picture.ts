/**
 * The regret picture of the README: cumulative regret of croupier's default policy (the gateway's policy with
 * the engine's default settings, `simulator/bandit/contenders.ts`) beside untempered Thompson sampling, greedy
 * and UCB1 in the steady-state scenario, and the same policies in the 10-armed Bernoulli bandit beside the
 * Lai–Robbins bound. Seeded, so the picture is the same on every machine. Counts are kept as the engine keeps
 * them by default (`stream.positionBias`).
 *
 *   node --import tsx simulator/report/regret-picture.ts [docs/img/regret.svg]
 */
import { writeFileSync } from 'node:fs';
import { renderSvg } from '../../src/report/charts.ts';
import { contenders, DEFAULT_COUNTING } from '../bandit/contenders.ts';
import { runInProcess, runKArmed } from '../bandit/runner.ts';
import { loadScenario } from '../world/scenario.ts';
import { cumulativeRegret, totals } from './series.ts';

const out = process.argv[2] ?? 'docs/img/regret.svg';
const steady = runInProcess({
  scenario: loadScenario('steady-state'),
  policies: contenders(DEFAULT_COUNTING, ['thompson τ=1', 'greedy', 'ucb1']),
});
const kArmedScenario = loadScenario('k-armed');
if (kArmedScenario.kind !== 'k-armed') throw new Error('k-armed scenario expected');
const kArmed = runKArmed({
  arms: kArmedScenario.arms,
  policies: contenders(DEFAULT_COUNTING, ['thompson τ=1', 'ucb1']),
  pulls: kArmedScenario.pulls,
  seed: kArmedScenario.seed,
});
const hours = steady.bucketSeconds / 3600;
const svg = renderSvg('croupier simulate: cumulative regret (seeded, in process)', [
  {
    title: 'steady-state: 2,000 users, 100 items, 5 slots, 8 simulated hours',
    xLabel: 'simulated hours',
    yLabel: 'expected clicks lost to the oracle',
    series: steady.series.map((s) => {
      const curve = cumulativeRegret(s);
      return {
        label: s.label,
        points: [[0, 0] as const, ...curve.map((r, i) => [(i + 1) * hours, r] as const)],
      };
    }),
  },
  {
    title: '10-armed Bernoulli bandit: regret vs the Lai–Robbins bound',
    xLabel: 'pulls (log scale)',
    yLabel: 'expected clicks lost',
    logX: true,
    xTicks: kArmed.pulls.filter((t) => Number.isInteger(Math.log10(t))).map((t) => [t, String(t)] as const),
    series: [
      ...Object.entries(kArmed.regret).map(([label, values]) => ({
        label,
        points: kArmed.pulls.map((t, i) => [t, values[i]] as const),
      })),
      {
        label: 'Lai–Robbins',
        dashed: true,
        points: kArmed.pulls.map((t, i) => [t, kArmed.bound[i]] as const),
      },
    ],
  },
]);
writeFileSync(out, svg);
console.log(`steady-state, seed ${steady.seed}, ${DEFAULT_COUNTING} counts:`);
for (const s of steady.series) {
  const t = totals(s);
  console.log(`  ${t.label.padEnd(16)} CTR ${(100 * t.ctr).toFixed(2)}%  regret ${t.regret.toFixed(0)}`);
}
const last = kArmed.pulls.length - 1;
const at4 = kArmed.pulls.indexOf(10_000);
console.log(
  `k-armed, seed ${kArmedScenario.seed}: regret ÷ Lai–Robbins bound at 10⁴ and ${kArmed.pulls[last]} pulls`,
);
for (const [label, values] of Object.entries(kArmed.regret)) {
  console.log(
    `  ${label.padEnd(16)} ${(values[at4] / kArmed.bound[at4]).toFixed(2)}  ${(values[last] / kArmed.bound[last]).toFixed(2)}`,
  );
}
console.log(`wrote ${out}`);
