/**
 * Latency versus rate of the whole gateway, measured as a user would: `croupier start` in its own process,
 * a catalog of 200 items published as CDC events (so every carousel ranks 200 candidates), then
 * `croupier loadtest` from this process: open loop, calibrated against a bare echo server first.
 *
 *   npm run bench:loadtest -- [rates=1000,2000,5000,7500,10000] [stepSeconds=10] [--set key=value …] [--clicks]
 *
 * `--set` settings go to `croupier start` (e.g. `--set gateway.propensityThreads=2`); `--clicks` makes the users
 * click (load-tests/clicks.ts) and counts their feedback per step. A run with either prints its figures and leaves
 * the result files of the default run as they are.
 * With CROUPIER_CPU_PROF=DIR the croupier process writes a V8 CPU profile per thread into DIR when it stops
 * (node --cpu-prof), the profile docs/performance.md reads.
 *
 * Writes bench/results/loadtest-gateway.json and docs/img/loadtest-gateway.svg, prints a Markdown table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { runLoadTest } from '../load-tests/loadtest.ts';
import { resultSvg, resultTable } from '../load-tests/report.ts';
import { cpuPartsProbe, partsTable } from './cpu-parts.ts';
import { startCroupierWithCatalog } from './croupier-process.ts';

const loadBefore = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const args = process.argv.slice(2);
const settings: string[] = [];
for (let i = args.indexOf('--set'); i >= 0; i = args.indexOf('--set')) {
  const [, value] = args.splice(i, 2);
  if (value === undefined || !value.includes('=')) throw new Error('--set expects key=value');
  settings.push(value);
}
// --clicks: the users click (load-tests/clicks.ts), so the catalog's posteriors separate as with real traffic.
const clicking = args.indexOf('--clicks');
if (clicking >= 0) args.splice(clicking, 1);
const rates = (args[0] ?? '1000,2000,5000,7500,10000').split(',').map(Number);
const stepSeconds = Number(args[1] ?? 10);
const ITEMS = 200;

const croupier = await startCroupierWithCatalog({
  items: ITEMS,
  settings,
  profileDir: process.env.CROUPIER_CPU_PROF,
});
try {
  const url = croupier.url;
  const result = await runLoadTest(
    {
      url,
      rates,
      stepSeconds,
      warmupSeconds: 5,
      connections: Math.max(16, Math.ceil(Math.max(...rates) / 100)),
      timeoutMs: 2000,
      slots: 10,
      users: 1000,
      mode: 'open',
      calibrate: true,
      ...(clicking >= 0 ? { clicks: { seed: 1 } } : {}),
      stepProbe: cpuPartsProbe({
        croupierPid: croupier.child.pid!,
        metricsUrl: croupier.metricsUrl,
      }),
    },
    (phase, step) =>
      console.error(`${phase} ${step.rate}/s: p50 ${step.latency.p50} ms, p99 ${step.latency.p99} ms`),
  );
  if (settings.length === 0 && clicking < 0) {
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(
      'bench/results/loadtest-gateway.json',
      `${JSON.stringify({ ...result, loadAverageBefore: loadBefore }, null, 2)}\n`,
    );
    mkdirSync('docs/img', { recursive: true });
    writeFileSync('docs/img/loadtest-gateway.svg', resultSvg(result));
  } else {
    console.log(`settings: ${[...settings, ...(clicking >= 0 ? ['(users click)'] : [])].join(' ')}`);
  }
  console.log(resultTable(result, true));
  console.log(`\n${resultTable(result)}`);
  console.log(
    `\nCPU per part (cores; event-loop busy share in brackets; load average before the run ${loadBefore}):\n`,
  );
  console.log(partsTable(result.steps));
} finally {
  await croupier.stop();
}
