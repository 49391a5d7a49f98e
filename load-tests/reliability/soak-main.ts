/**
 * `npm run soak`: a 30-minute soak run (soak.ts) at 200 carousels/s; prints the memory of every process over time
 * and its slope after the warm-up, and writes the report to bench/results/soak-<mode>.json.
 *
 *   npm run soak                              # croupier start, everything embedded: bench/results/soak-embedded.json
 *   npm run soak -- --mode external           # a broker process with a data dir, and an audit of Redis at the end
 *   npm run soak -- --minutes 5 --warmup 2    # a shorter look
 *   npm run soak -- --set archive.enabled=false   # croupier's config, as `croupier --set` takes it
 *   npm run soak -- --render bench/results/soak-embedded.json   # the README's figures again from a saved report
 *
 * A run of the default length and rate also rewrites its figures in the README's Reliability section.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { markdownTable } from '../../src/report/charts.ts';
import { loadAverageText, writeReadmeBlock } from './readme-block.ts';
import { runSoak, SOAK_DEFAULTS, type SoakReport } from './soak.ts';

export function soakTable(report: SoakReport): string {
  const table = markdownTable(
    ['memory', 'after warm-up (MB)', 'slope (MB/min)'],
    Object.entries(report.series).map(([name, s = { minMb: 0, maxMb: 0, slopeMbPerMinute: 0 }]) => [
      name.replace(/Mb$/, ''),
      `${s.minMb}–${s.maxMb}`,
      s.slopeMbPerMinute.toFixed(2),
    ]),
  );
  const threads = Object.entries(report.threadSeries ?? {});
  const threadTable =
    threads.length === 0
      ? []
      : [
          '',
          markdownTable(
            ['thread', 'heap in use (MB)', 'slope', 'external (MB)', 'slope'],
            threads.map(([name, s]) => [
              name,
              `${s.heap.minMb}–${s.heap.maxMb}`,
              s.heap.slopeMbPerMinute.toFixed(2),
              `${s.external.minMb}–${s.external.maxMb}`,
              s.external.slopeMbPerMinute.toFixed(2),
            ]),
          ),
        ];
  const t = report.totals;
  const a = report.audit;
  return [
    table,
    ...threadTable,
    '',
    `${t.sent} carousels (${t.served} served, ${t.empty} empty, ${t.failed} failed), ${t.clicksAcked} clicks`,
    a === null
      ? 'Redis: not audited (the in-memory broker deletes old records by retention)'
      : a.exact
        ? `Redis: every counter equals the reference fold of the clickstream topic (${a.records} records)`
        : `Redis: ${a.differenceCount} counters differ from the reference fold`,
  ].join('\n');
}

/** The README's soak figures of one mode: the table, the traffic and what the run was measured under. */
export function soakReadme(report: SoakReport): string {
  // Reports written before the embedded mode existed name no mode: they are external.
  const o = { ...report.options, mode: report.options.mode ?? 'external' };
  const worst = Math.max(...Object.values(report.series).map((s) => s?.slopeMbPerMinute ?? 0));
  const what =
    o.mode === 'embedded'
      ? '`croupier start` as one process (gateway, in-memory broker and topology threads) and its redis-server child'
      : 'croupier, a broker process with a data directory and a redis-server';
  return [
    `${o.mode === 'embedded' ? 'Embedded' : 'External'}: ${what}; ${o.minutes} minutes at ${o.rate} carousels/s, ` +
      `memory after a ${o.warmupMinutes}-minute warm-up (sampled every ${o.sampleSeconds} s; ` +
      `\`bench/results/soak-${o.mode}.json\`):`,
    '',
    soakTable(report),
    '',
    `${worst < 1 ? 'Every slope is under' : 'Not every slope is under'} the 1 MB/min goal (largest ${worst.toFixed(2)}). ` +
      `Run of ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC on a ${report.machine.cpus}-core shared ` +
      `machine, load average ${loadAverageText(report.machine.loadAverage)} at the end.`,
  ].join('\n');
}

const blockName = (report: SoakReport) => (report.options.mode === 'embedded' ? 'soak' : 'soak-external');

/** `path.to.key=value` settings (the value read as JSON when it parses) over a config object. */
function withSettings(base: Record<string, unknown>, settings: readonly string[]): Record<string, unknown> {
  const out = structuredClone(base);
  for (const setting of settings) {
    const eq = setting.indexOf('=');
    if (eq < 0) throw new Error(`--set ${setting}: expected key.path=value`);
    const path = setting.slice(0, eq).split('.');
    const raw = setting.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    let node = out;
    for (const key of path.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      warmup: { type: 'string' },
      rate: { type: 'string' },
      out: { type: 'string' },
      'log-dir': { type: 'string' },
      mode: { type: 'string' },
      set: { type: 'string', multiple: true },
      render: { type: 'string' },
    },
  });
  if (values.render) {
    const saved = JSON.parse(readFileSync(values.render, 'utf8')) as SoakReport;
    writeReadmeBlock(blockName(saved), soakReadme(saved));
    return;
  }
  const mode = values.mode ?? SOAK_DEFAULTS.mode;
  if (mode !== 'embedded' && mode !== 'external') throw new Error('--mode is embedded or external');
  const report = await runSoak({
    ...SOAK_DEFAULTS,
    ...(values.minutes ? { minutes: Number(values.minutes) } : {}),
    ...(values.warmup ? { warmupMinutes: Number(values.warmup) } : {}),
    ...(values.rate ? { rate: Number(values.rate) } : {}),
    ...(values['log-dir'] ? { logDir: values['log-dir'] } : {}),
    mode,
    croupierConfig: withSettings(SOAK_DEFAULTS.croupierConfig ?? {}, values.set ?? []),
    log: (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
  });
  console.log(`\n${soakTable(report)}\n`);
  const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const out = values.out ?? `${dir}soak-${mode}.json`;
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`report: ${out}`);
  if (
    !values.out &&
    report.options.minutes === SOAK_DEFAULTS.minutes &&
    report.options.rate === SOAK_DEFAULTS.rate
  ) {
    writeReadmeBlock(blockName(report), soakReadme(report));
    console.log('README: Reliability figures rewritten');
  }
  process.exit(report.audit === null || report.audit.exact ? 0 : 1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
