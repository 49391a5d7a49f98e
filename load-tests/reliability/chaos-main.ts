/**
 * `npm run chaos`: a chaos run (chaos.ts) with its defaults, or `-- --quick` for the short one `npm test` runs; prints
 * a table per fault and the audit, and writes the report to bench/results/chaos.json (chaos-quick.json).
 *
 *   npm run chaos                      # 200 carousels/s, every fault, default session timeout (about 8 minutes)
 *   npm run chaos -- --faults redis-empty,process-kill --rate 100
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { markdownTable } from '../../src/report/charts.ts';
import {
  CHAOS_DEFAULTS,
  type ChaosOptions,
  type ChaosReport,
  FAULTS,
  type FaultName,
  QUICK_CHAOS,
  runChaos,
} from './chaos.ts';

export function chaosTable(report: ChaosReport): string {
  const table = markdownTable(
    ['fault', 'carousels', 'failed', 'empty', 'empty while ready', 'went not ready', 'seconds to recover'],
    report.faults.map((f) => [
      f.fault,
      f.carousels,
      f.failed,
      f.empty,
      f.emptyWhileReady,
      f.wentNotReady ? 'yes' : 'no',
      f.secondsToRecover === null ? 'not recovered' : f.secondsToRecover.toFixed(1),
    ]),
  );
  const a = report.audit;
  return [
    table,
    '',
    `clickstream in Kafka: ${a.records} records (${a.impressions} impressions, ${a.clicks} clicks, ${a.repeated} ` +
      `repeated); clients saw ` +
      `${report.totals.impressionsShown} impressions and ${report.totals.clicksAcked} acknowledged clicks`,
    a.exact
      ? 'Redis: every counter equals the reference fold of the clickstream topic'
      : `Redis: ${a.differenceCount} counters differ from the reference fold, e.g.\n  ${a.differences.join('\n  ')}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rate: { type: 'string' },
      faults: { type: 'string' },
      out: { type: 'string' },
      'log-dir': { type: 'string' },
    },
  });
  const base = values.quick ? QUICK_CHAOS : CHAOS_DEFAULTS;
  const faults = values.faults ? (values.faults.split(',') as FaultName[]) : base.faults;
  for (const f of faults)
    if (!FAULTS.includes(f)) throw new Error(`unknown fault ${f}; known: ${FAULTS.join(', ')}`);
  const options: ChaosOptions = {
    ...base,
    faults,
    ...(values.rate ? { rate: Number(values.rate) } : {}),
    ...(values['log-dir'] ? { logDir: values['log-dir'] } : {}),
    log: (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
  };
  const report = await runChaos(options);
  console.log(`\n${chaosTable(report)}\n`);
  const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const out = values.out ?? `${dir}${values.quick ? 'chaos-quick' : 'chaos'}.json`;
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`report: ${out}`);
  process.exit(report.audit.exact && report.faults.every((f) => f.secondsToRecover !== null) ? 0 : 1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
