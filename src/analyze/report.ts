/** The human-readable form of an analysis: a per-variant table, the checks and tests, and the verdict. */
import type { AnalysisReport, TestRow } from './analysis-report.ts';
import { formatP, formatPercent } from './verdict.ts';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '))
    .join('\n');
}

function num(x: number): string {
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(3);
  return x.toFixed(a >= 100 ? 2 : 4);
}

function testLine(t: TestRow): string {
  const parts = [`${t.name}${t.comparison ? `, ${t.comparison}` : ''}: statistic = ${num(t.statistic)}`];
  if (t.df !== undefined) parts.push(`df = ${Array.isArray(t.df) ? t.df.map(num).join(', ') : num(t.df)}`);
  parts.push(`p = ${formatP(t.pValue)}`);
  if (t.adjustedPValue !== undefined) parts.push(`Holm p = ${formatP(t.adjustedPValue)}`);
  if (t.estimate !== undefined) {
    parts.push(`difference ${num(t.estimate)}${t.ci ? ` [${num(t.ci[0])}, ${num(t.ci[1])}]` : ''}`);
  }
  return parts.join(', ');
}

export function formatReport(report: AnalysisReport, input: { records: number; skipped: number }): string {
  const level = `${Math.round(report.confidence * 1000) / 10}%`;
  const header = ['variant', 'n', 'mean', `${level} CI`, `lift vs ${report.control}`];
  const bayes = report.bayesian.length > 0;
  if (bayes) header.push('P(best)', 'exp. loss');
  const rows = [header];
  for (const v of report.variants) {
    const lift = report.lifts.find((l) => l.name === v.name);
    const row = [
      v.name,
      String(v.n),
      num(v.mean),
      `[${num(v.ci[0])}, ${num(v.ci[1])}]`,
      lift === undefined
        ? '—'
        : `${formatPercent(lift.estimate)} [${formatPercent(lift.ci[0])}, ${formatPercent(lift.ci[1])}]`,
    ];
    const b = report.bayesian.find((r) => r.name === v.name);
    if (bayes) row.push(b ? `${(100 * b.probabilityBest).toFixed(1)}%` : '—', b ? num(b.expectedLoss) : '—');
    rows.push(row);
  }
  const srm = report.srm;
  const lines = [
    `${report.metric}: ${input.records} events (${input.skipped} skipped), control = ${report.control}`,
    '',
    table(rows),
    '',
    `sample ratio: chi-squared = ${num(srm.statistic)}, df = ${srm.df}, p = ${formatP(srm.pValue)} (${srm.mismatch ? 'MISMATCH' : 'ok'})`,
    ...report.tests.map(testLine),
    ...report.bayesian
      .filter((b) => b.liftCi !== undefined)
      .map(
        (b) =>
          `posterior lift, ${b.name} vs ${report.control}: ${level} credible interval [${formatPercent(b.liftCi![0])}, ${formatPercent(b.liftCi![1])}]`,
      ),
    '',
    `verdict: ${report.verdict}`,
  ];
  return `${lines.join('\n')}\n`;
}
