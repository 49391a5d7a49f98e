/**
 * A simulation report three ways: a terminal table, JSON, and one self-contained SVG picture (CTR,
 * conversion rate and watch time over time per policy/variant, cumulative regret against the oracle, and
 * for the K-armed scenario the measured regret beside the Lai–Robbins bound).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Panel, renderSvg, textTable } from '../../src/report/charts.ts';
import { cumulativeRegret, type SimulationReport, totals } from './series.ts';

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

export function reportTable(report: SimulationReport): string {
  const rows = report.series.map((s) => {
    const t = totals(s);
    return [
      t.label,
      t.requests,
      t.impressions,
      pct(t.ctr),
      pct(t.conversionRate),
      (t.watchMsPerClick / 1000).toFixed(1),
      t.regret.toFixed(1),
      pct(t.regretShare),
    ];
  });
  const lines = [
    `scenario ${report.scenario} · seed ${report.seed} · ${report.mode}`,
    textTable(
      ['policy', 'requests', 'impressions', 'CTR', 'conv/click', 'watch s/click', 'regret', 'regret/oracle'],
      rows,
    ),
  ];
  if (report.kArmed) {
    const k = report.kArmed;
    const policies = Object.keys(k.regret);
    lines.push(
      '',
      'K-armed: cumulative regret beside the Lai–Robbins bound',
      textTable(
        ['pulls', 'bound', ...policies, ...policies.map((p) => `${p}/bound`)],
        k.pulls.map((t, i) => [
          t,
          k.bound[i].toFixed(1),
          ...policies.map((p) => k.regret[p][i].toFixed(1)),
          ...policies.map((p) => (k.regret[p][i] / k.bound[i]).toFixed(2)),
        ]),
      ),
    );
  }
  if (report.notes) {
    lines.push('', ...Object.entries(report.notes).map(([key, value]) => `${key}: ${value}`));
  }
  return lines.join('\n');
}

function overTime(
  report: SimulationReport,
  title: string,
  yLabel: string,
  value: (b: SimulationReport['series'][number]['buckets'][number]) => number | null,
): Panel {
  const minutes = report.bucketSeconds >= 60;
  const unit = minutes ? 60 : 1;
  return {
    title,
    xLabel: minutes ? 'simulated minutes' : 'seconds',
    yLabel,
    series: report.series.map((s) => ({
      label: s.label,
      points: s.buckets.flatMap((b) => {
        const v = value(b);
        return v === null ? [] : [[(b.start + report.bucketSeconds) / unit, v] as const];
      }),
    })),
  };
}

export function reportSvg(report: SimulationReport): string {
  const panels: Panel[] = [];
  if (report.kArmed) {
    const k = report.kArmed;
    panels.push({
      title: 'Cumulative regret vs the Lai–Robbins lower bound',
      xLabel: 'pulls (log scale)',
      yLabel: 'expected clicks lost',
      logX: true,
      xTicks: k.pulls.filter((t) => Number.isInteger(Math.log10(t))).map((t) => [t, String(t)] as const),
      series: [
        ...Object.entries(k.regret).map(([label, values]) => ({
          label,
          points: k.pulls.map((t, i) => [t, values[i]] as const),
        })),
        { label: 'Lai–Robbins', dashed: true, points: k.pulls.map((t, i) => [t, k.bound[i]] as const) },
      ],
    });
  }
  if (report.series.length > 0) {
    panels.push({
      ...overTime(report, 'Cumulative regret against the oracle', 'expected clicks lost', () => 0),
      series: report.series.map((s) => {
        const curve = cumulativeRegret(s);
        const unit = report.bucketSeconds >= 60 ? 60 : 1;
        return {
          label: s.label,
          points: s.buckets.map((b, i) => [(b.start + report.bucketSeconds) / unit, curve[i]]),
        };
      }),
    });
    panels.push(
      overTime(report, 'Click-through rate', 'clicks / impressions', (b) =>
        b.impressions > 0 ? b.clicks / b.impressions : null,
      ),
    );
    panels.push(
      overTime(report, 'Conversion rate', 'conversions / clicks', (b) =>
        b.clicks > 0 ? b.conversions / b.clicks : null,
      ),
    );
    panels.push(
      overTime(report, 'Watch time', 'seconds per click', (b) =>
        b.clicks > 0 ? b.watchMs / b.clicks / 1000 : null,
      ),
    );
  }
  return renderSvg(`croupier simulate · ${report.scenario} (seed ${report.seed}, ${report.mode})`, panels);
}

/** Writes report.json, report.svg and report.txt into `dir`; returns their paths. */
export function writeReport(dir: string, report: SimulationReport): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'report.json'), join(dir, 'report.svg'), join(dir, 'report.txt')];
  writeFileSync(files[0], `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(files[1], reportSvg(report));
  writeFileSync(files[2], `${reportTable(report)}\n`);
  return files;
}
