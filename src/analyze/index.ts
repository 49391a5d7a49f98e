/**
 * `croupier analyze` as a function: stream an experiment's events from a file into per-variant tallies, then
 * analyze them with the stats library. The CLI command is a thin wrapper around `analyzeFile`.
 */
import {
  type AnalysisOptions,
  type AnalysisReport,
  analyzeContinuous,
  analyzeRates,
  type Metric,
  RATE_METRICS,
} from './analyze.ts';
import { type InputFormat, type ReadSummary, readEvents } from './read-events.ts';
import { ContinuousTallies, RateTallies } from './tally.ts';

export type { AnalysisOptions, AnalysisReport, Method, Metric } from './analyze.ts';
export { analyzeContinuous, analyzeRates } from './analyze.ts';
export { formatOf, type InputFormat, readEvents } from './read-events.ts';
export { formatReport } from './report.ts';
export { ContinuousTallies, RateTallies } from './tally.ts';

/** The field each metric reads when `valueField` is not given. */
export const DEFAULT_VALUE_FIELDS: Readonly<Record<Metric, string>> = {
  ctr: 'clicked',
  conversion: 'converted',
  watch_time: 'watch_time',
};

export interface AnalyzeFileOptions extends AnalysisOptions {
  path: string;
  format?: InputFormat;
  variantField?: string;
  valueField?: string;
}

export async function analyzeFile(
  options: AnalyzeFileOptions,
): Promise<{ report: AnalysisReport; input: ReadSummary }> {
  const read = {
    path: options.path,
    format: options.format,
    variantField: options.variantField ?? 'variant',
    valueField: options.valueField ?? DEFAULT_VALUE_FIELDS[options.metric],
  };
  if (RATE_METRICS.includes(options.metric)) {
    const tallies = new RateTallies();
    const input = await readEvents(read, (variant, value) => tallies.add(variant, value));
    return { report: analyzeRates(tallies.byVariant, options), input };
  }
  const tallies = new ContinuousTallies();
  const input = await readEvents(read, (variant, value) => tallies.add(variant, value));
  return { report: analyzeContinuous(tallies.byVariant, options), input };
}
