/**
 * The load test's outputs: a terminal (or Markdown) table of latency versus rate, an SVG of the percentile
 * curves of every step (latency against 1/(1 − percentile) on a log axis, as HdrHistogram plots them), and
 * the comparison of two result files.
 */

import { readJsonFileSync } from '../src/config/read-json-file.ts';
import { CroupierError } from '../src/errors/index.ts';
import { markdownTable, type Panel, renderSvg, textTable } from '../src/report/charts.ts';
import type { LoadTestResult } from './loadtest.ts';
import type { StepResult } from './open-loop.ts';

const HEADER = [
  'target rate/s',
  'achieved/s',
  'p50 ms',
  'p90 ms',
  'p99 ms',
  'p99.9 ms',
  'p99.99 ms',
  'max ms',
];

function stepRow(step: StepResult): Array<string | number> {
  const l = step.latency;
  return [step.rate, step.achievedRate, l.p50, l.p90, l.p99, l.p999, l.p9999, l.max];
}

export function resultTable(result: LoadTestResult, markdown = false): string {
  const table = markdown ? markdownTable : textTable;
  const rows = result.steps.map((step, i) => {
    const verdict = result.verdicts[i];
    return [
      ...stepRow(step),
      step.errors,
      step.timeouts,
      verdict?.generatorBound ? 'generator-bound' : verdict?.reason === 'not calibrated' ? '-' : 'ok',
    ];
  });
  const skipped = result.options.rates.filter((rate) => !result.steps.some((s) => s.rate === rate));
  if (skipped.length > 0)
    rows.push(...skipped.map((rate) => [rate, 'saturated', '', '', '', '', '', '', '', '', '']));
  const parts = [table([...HEADER, 'errors', 'timeouts', 'limit'], rows)];
  if (result.calibration && !markdown) {
    parts.push(
      '',
      `generator calibration against a bare uWebSockets.js echo server (ceiling ${result.calibration.ceiling}/s):`,
      textTable(HEADER, result.calibration.steps.map(stepRow)),
    );
    for (const v of result.verdicts) if (v.generatorBound) parts.push(`! ${v.rate}/s: ${v.reason}`);
  }
  return parts.join('\n');
}

const TICKS: Array<readonly [number, string]> = [
  [1, '0%'],
  [2, '50%'],
  [10, '90%'],
  [100, '99%'],
  [1000, '99.9%'],
  [10000, '99.99%'],
  [100000, '99.999%'],
];

function curvePanel(title: string, steps: readonly StepResult[], prefix = ''): Panel {
  return {
    title,
    xLabel: 'percentile',
    yLabel: 'latency, ms',
    logX: true,
    xTicks: TICKS,
    series: steps.map((step) => ({
      label: `${prefix}${step.rate}/s`,
      points: step.latency.curve
        .filter((p) => p.percentile < 100)
        .map((p) => [1 / (1 - p.percentile / 100), p.ms] as const),
    })),
  };
}

export function resultSvg(result: LoadTestResult): string {
  const panels = [curvePanel(`Latency by percentile, ${result.target}`, result.steps)];
  if (result.calibration) {
    panels.push(curvePanel('Generator calibration (bare echo server)', result.calibration.steps, 'echo '));
  }
  return renderSvg('croupier loadtest · open loop, corrected for coordinated omission', panels);
}

const WRITE_ONE = 'write one with croupier loadtest --out FILE';

export function readResult(file: string): LoadTestResult {
  const parsed = readJsonFileSync(file, {
    code: 'CROUPIER_ERR_LOADTEST_RESULT',
    what: 'the loadtest result',
    invalidHint: WRITE_ONE,
  }) as Partial<LoadTestResult> | null;
  if (parsed?.version !== 1 || !Array.isArray(parsed.steps)) {
    throw new CroupierError(
      'CROUPIER_ERR_LOADTEST_RESULT',
      `${file} is not a croupier loadtest result (${WRITE_ONE})`,
      { file },
    );
  }
  return parsed as LoadTestResult;
}

/** Step by step (matched by rate): percentiles of a and b and the change from a to b. */
export function compareResults(a: LoadTestResult, b: LoadTestResult): string {
  const change = (x: number, y: number) => (x > 0 ? `${(((y - x) / x) * 100).toFixed(0)}%` : '-');
  const rows: Array<Array<string | number>> = [];
  for (const sa of a.steps) {
    const sb = b.steps.find((s) => s.rate === sa.rate);
    if (sb === undefined) continue;
    for (const key of ['p50', 'p99', 'p999', 'max'] as const) {
      rows.push([
        `${sa.rate}/s ${key}`,
        sa.latency[key],
        sb.latency[key],
        change(sa.latency[key], sb.latency[key]),
      ]);
    }
    rows.push([
      `${sa.rate}/s achieved`,
      sa.achievedRate,
      sb.achievedRate,
      change(sa.achievedRate, sb.achievedRate),
    ]);
  }
  return textTable(['step', 'a', 'b', 'b vs a'], rows);
}
