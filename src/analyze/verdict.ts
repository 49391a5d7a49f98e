/**
 * The one sentence at the bottom of an analysis: trust first (sample ratio), then the frequentist call at the
 * chosen confidence, then what the posterior says, in words a product owner can act on.
 */
import type { AnalysisReport } from './analysis-report.ts';

export function formatPercent(x: number, digits = 1): string {
  const v = (100 * x).toFixed(digits);
  return `${x > 0 ? '+' : ''}${v}%`;
}

export function formatP(p: number): string {
  if (p < 1e-4) return p.toExponential(1);
  return p.toPrecision(2);
}

/** The p-value that decides "name vs control": Holm-adjusted where several pairs were compared. */
function pValueAgainstControl(report: Omit<AnalysisReport, 'verdict'>, name: string): number | undefined {
  const row = report.tests.find((t) => t.comparison === `${name} vs ${report.control}`);
  return row === undefined ? undefined : (row.adjustedPValue ?? row.pValue);
}

export function verdictOf(report: Omit<AnalysisReport, 'verdict'>): string {
  const { srm, control, metric, confidence } = report;
  if (srm.mismatch) {
    return `Sample ratio mismatch (p = ${formatP(srm.pValue)}): traffic did not split as configured, so these results cannot be trusted; fix the assignment before reading them.`;
  }
  const level = `${Math.round(confidence * 1000) / 10}%`;
  const alpha = 1 - confidence;
  const best = [...report.bayesian].sort((a, b) => b.probabilityBest - a.probabilityBest)[0];
  const bayes =
    best === undefined
      ? ''
      : `${best.name} is best with probability ${(100 * best.probabilityBest).toFixed(1)}% (expected loss ${best.expectedLoss.toPrecision(2)})`;
  if (report.tests.length === 0) {
    const decisive = best !== undefined && best.probabilityBest >= confidence;
    return `${bayes}${decisive ? '.' : `; not yet decisive at ${level}: keep collecting data.`}`;
  }
  const calls = report.lifts.map((l) => ({ ...l, p: pValueAgainstControl(report, l.name) }));
  const winners = calls.filter((c) => c.p !== undefined && c.p < alpha && c.estimate > 0);
  const losers = calls.filter((c) => c.p !== undefined && c.p < alpha && c.estimate < 0);
  const describe = (c: (typeof calls)[number]): string =>
    `${formatPercent(c.estimate)} ${metric} (${level} CI ${formatPercent(c.ci[0])} to ${formatPercent(c.ci[1])}), p = ${formatP(c.p!)}`;
  const tail = bayes === '' ? '.' : `; ${bayes}.`;
  if (winners.length > 0) {
    const w = winners.sort((a, b) => b.estimate - a.estimate)[0];
    return `${w.name} beats ${control}: ${describe(w)}${tail}`;
  }
  if (losers.length > 0) {
    const l = losers.sort((a, b) => a.estimate - b.estimate)[0];
    return `${l.name} is worse than ${control}: ${describe(l)}${tail}`;
  }
  const tested = calls.filter((c) => c.p !== undefined).map((c) => c.p!);
  if (tested.length === 0) {
    return `Nothing to test against ${control} on ${metric} yet (no variation in the data)${tail}`;
  }
  return `No significant difference from ${control} on ${metric} at ${level} (smallest p = ${formatP(Math.min(...tested))})${tail}`;
}
