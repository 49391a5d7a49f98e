/**
 * `npm run chaos`: a chaos run (chaos.ts) with its defaults, or `-- --quick` for the short one `npm test` runs; prints
 * a table per fault and the audit, and writes the report to bench/results/chaos.json (chaos-quick.json).
 *
 *   npm run chaos                      # 200 carousels/s, every fault, default session timeout (about 8 minutes)
 *   npm run chaos -- --faults redis-empty,process-kill --rate 100
 *   npm run chaos -- --render bench/results/chaos.json   # the README's figures again from a saved report
 *
 * A run with every fault at the default rate also rewrites the figures in the README's Reliability section.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
import { loadAverageText, writeReadmeBlock } from './readme-block.ts';

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

/** The README's chaos figures: the table per fault, the audit and what the run was measured under. */
export function chaosReadme(report: ChaosReport): string {
  const table = markdownTable(
    ['fault', 'carousels', 'failed', 'empty', 'empty while ready', 'went not ready', 'seconds to recover'],
    report.faults.map((f) => [
      f.fault,
      f.carousels.toLocaleString('en-US'),
      f.failed.toLocaleString('en-US'),
      f.empty,
      f.emptyWhileReady,
      f.wentNotReady ? 'yes' : 'no',
      f.secondsToRecover === null ? 'not recovered' : f.secondsToRecover.toFixed(1),
    ]),
  );
  const a = report.audit;
  const b = report.baseline;
  const n = (v: number) => v.toLocaleString('en-US');
  const failedWhere = report.faults.filter((f) => f.failed > 0).map((f) => f.fault);
  return [
    table,
    '',
    `At the end the whole clickstream topic (${n(a.records)} records: ${n(a.impressions)} impressions, ${n(a.clicks)} ` +
      `clicks, ${n(a.repeated)} repeated) is read back and folded by the tests' reference fold: ` +
      (a.exact
        ? 'every Redis counter equals it, so nothing was lost or counted twice between Kafka and Redis, whichever ' +
          'part was killed.'
        : `${n(a.differenceCount)} Redis counters differ from it.`) +
      ` The clients saw ${n(report.totals.impressionsShown)} impressions and ${n(report.totals.clicksAcked)} ` +
      `acknowledged clicks. Failed carousels ${failedWhere.length === 0 ? 'did not occur' : `occur only under ${failedWhere.join(', ')}: a carousel due while the process is down (its connection closed, until the client reconnects) counts as failed`}; ` +
      `before the first fault (start-up and ${report.options.warmupMs / 1000} s of warm-up) ${n(b.sent)} carousels ` +
      `were sent, ${n(b.failed)} failed and ${n(b.empty)} came back empty (${n(b.emptyWhileReady)} while ready). ` +
      `Run of ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${report.seconds} s, ${report.machine.cpus}-core ` +
      `shared machine, load average ${loadAverageText(report.machine.loadAverage)} at the end; ` +
      '`bench/results/chaos.json`.',
  ].join('\n');
}

function isFullRun(options: ChaosOptions): boolean {
  return options.rate === CHAOS_DEFAULTS.rate && FAULTS.every((f) => options.faults.includes(f));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rate: { type: 'string' },
      faults: { type: 'string' },
      out: { type: 'string' },
      'log-dir': { type: 'string' },
      render: { type: 'string' },
    },
  });
  if (values.render) {
    writeReadmeBlock('chaos', chaosReadme(JSON.parse(readFileSync(values.render, 'utf8')) as ChaosReport));
    return;
  }
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
  if (!values.quick && !values.out && isFullRun(options)) {
    writeReadmeBlock('chaos', chaosReadme(report));
    console.log('README: Reliability figures rewritten');
  }
  process.exit(report.audit.exact && report.faults.every((f) => f.secondsToRecover !== null) ? 0 : 1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
