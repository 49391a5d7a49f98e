/** A shadow test's report as a text table, the verdict lines, and an SVG of the estimates with their intervals. */
import { type IntervalRow, renderIntervalSvg, textTable } from '../report/charts.ts';
import { ESTIMATORS } from './estimators.ts';
import type { ShadowReport } from './evaluate-shadow.ts';
import type { Metric } from './logged-carousel.ts';

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const num = (x: number) => x.toFixed(4);

function formatter(metric: Metric): (x: number) => string {
  return metric === 'watchSeconds' ? num : pct;
}

/**
 * The table of one reward: the logged value, then each candidate's estimates (item-and-slot IPS, SNIPS and DR, then
 * the position-based ones) with intervals and lift.
 */
export function shadowTable(report: ShadowReport, metric: Metric = 'ctr'): string {
  const f = formatter(metric);
  const interval = (e: { estimate: number; ci: [number, number] }) =>
    `${f(e.estimate)} [${f(e.ci[0])}, ${f(e.ci[1])}]`;
  const logged = report.logged.metrics[metric];
  const rows: (string | number)[][] = [
    [`logged (${report.logged.policies.join(', ')})`, 'observed', interval(logged), '-', '-', '-', '-'],
  ];
  for (const c of report.candidates) {
    for (const estimator of ESTIMATORS) {
      // The item-and-slot weights on the IPS row, the position-based ones on the PBM-IPS row.
      const first = estimator === 'ips';
      const weights = first ? c.diagnostics : estimator === 'pbm-ips' ? c.diagnostics.positionBased : null;
      const outside = c.diagnostics.outsideSupport;
      rows.push([
        first ? c.label : '',
        estimator.toUpperCase(),
        interval(c.metrics[metric].estimates[estimator]),
        interval(c.metrics[metric].lift[estimator]),
        weights === null ? '' : weights.effectiveSampleSize.toFixed(0),
        weights === null ? '' : weights.largestWeight.toFixed(1),
        first ? (outside === null ? '-' : pct(outside)) : '',
      ]);
    }
  }
  return textTable(
    [
      `${metric} per impression`,
      'estimator',
      'estimate [95% interval]',
      'lift over logged',
      'ESS',
      'max weight',
      'outside support',
    ],
    rows,
  );
}

/** The whole text report: counts, the CTR table and the verdicts. */
export function shadowText(report: ShadowReport): string {
  const c = report.carousels;
  const lines = [
    `carousels read ${c.read}, evaluated ${c.evaluated} (with candidate sets), without candidate set ${c.withoutCandidates}, unusable ${c.unusable}; impressions ${report.impressions}`,
    ...(c.firstUnusable === null
      ? []
      : [`unusable: the first, carousel ${c.firstUnusable.requestId}: ${c.firstUnusable.problem}`]),
    `bootstrap: ${report.settings.replicates} resamples by carousel, seed ${report.settings.seed}; weights ${
      report.settings.maxWeight === null ? 'not clipped' : `clipped at ${report.settings.maxWeight}`
    }`,
    '',
    shadowTable(report, 'ctr'),
    '',
    ...report.candidates.map((candidate) => `${candidate.label}: ${candidate.verdict.text}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The CTR estimates of every candidate and estimator with their intervals, the logged value as reference. */
export function shadowSvg(report: ShadowReport, metric: Metric = 'ctr'): string {
  const rows: IntervalRow[] = [];
  const logged = report.logged.metrics[metric];
  rows.push({
    label: 'logged (observed)',
    estimate: logged.estimate,
    lo: logged.ci[0],
    hi: logged.ci[1],
    group: 'logged',
  });
  for (const c of report.candidates) {
    for (const estimator of ESTIMATORS) {
      const e = c.metrics[metric].estimates[estimator];
      rows.push({
        label: `${c.label} · ${estimator.toUpperCase()}`,
        estimate: e.estimate,
        lo: e.ci[0],
        hi: e.ci[1],
        group: estimator,
      });
    }
  }
  return renderIntervalSvg(
    `Shadow test: ${metric} per impression, 95% bootstrap intervals`,
    `${metric} per impression`,
    rows,
    { label: 'logged', value: logged.estimate },
  );
}
