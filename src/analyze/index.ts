/**
 * `croupier analyze` as a function: stream an experiment's events from a file into per-variant tallies, then
 * analyze them with the stats library. The CLI command is a thin wrapper around `analyzeFile`.
 */
import { type AnalysisOptions, type AnalysisReport, type Metric, RATE_METRICS } from './analysis-report.ts';
import { analyzeContinuous, analyzeRates } from './analyze.ts';
import { ClickstreamJoin } from './clickstream-join.ts';
import { type InputFormat, type ReadSummary, readRecords } from './read-events.ts';
import { ContinuousTallies, RateTallies } from './tally.ts';

export type { AnalysisOptions, AnalysisReport, Method, Metric } from './analysis-report.ts';
export { analyzeContinuous, analyzeRates } from './analyze.ts';
export { ClickstreamJoin } from './clickstream-join.ts';
export { formatOf, type InputFormat, readRecords } from './read-events.ts';
export { formatReport } from './report.ts';
export { ContinuousTallies, RateTallies } from './tally.ts';

/** The field each metric reads when `valueField` is not given. */
export const DEFAULT_VALUE_FIELDS: Readonly<Record<Metric, string>> = {
  ctr: 'clicked',
  conversion: 'converted',
  watch_time: 'watch_time',
};

export interface AnalyzeFileOptions extends AnalysisOptions {
  /** One file, or several read in order (e.g. impressions before clicks). */
  path: string | readonly string[];
  format?: InputFormat;
  variantField?: string;
  valueField?: string;
}

/**
 * Reads the events and analyzes them. A record with the metric's field counts directly (one unit each);
 * clickstream events without it (Impression, Click, Conversion, Watch) are joined by request and item.
 */
export async function analyzeFile(
  options: AnalyzeFileOptions,
): Promise<{ report: AnalysisReport; input: ReadSummary }> {
  const variantField = options.variantField ?? 'variant';
  const valueField = options.valueField ?? DEFAULT_VALUE_FIELDS[options.metric];
  const isRate = RATE_METRICS.includes(options.metric);
  const rates = isRate ? new RateTallies() : undefined;
  const values = isRate ? undefined : new ContinuousTallies();
  const tallies = (rates ?? values)!;
  const join = new ClickstreamJoin(options.metric, variantField, { rates, values });
  const handle = (record: Readonly<Record<string, unknown>>): boolean => {
    const value = record[valueField];
    if (value === undefined || value === null) return join.add(record);
    const variant = record[variantField];
    return (
      (typeof variant === 'string' || typeof variant === 'number') && tallies.add(String(variant), value)
    );
  };
  const input: ReadSummary = { records: 0, skipped: 0 };
  for (const path of typeof options.path === 'string' ? [options.path] : options.path) {
    const read = await readRecords(
      { path, format: options.format, fields: [variantField, valueField] },
      handle,
    );
    input.records += read.records;
    input.skipped += read.skipped;
  }
  const report = rates
    ? analyzeRates(rates.byVariant, options)
    : analyzeContinuous(values!.byVariant, options);
  return { report, input };
}
