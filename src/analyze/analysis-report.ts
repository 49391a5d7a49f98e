/**
 * The shape of an analysis, shared by what computes it (`analyze.ts`), what sums it up in one sentence
 * (`verdict.ts`) and what prints it (`report.ts`): plain data, so a report can be written as JSON as it is.
 */
import type { SrmResult } from '../stats/index.ts';

export type Metric = 'ctr' | 'conversion' | 'watch_time';
export type Method = 'frequentist' | 'bayesian' | 'both';

export const RATE_METRICS: readonly Metric[] = ['ctr', 'conversion'];

export interface AnalysisOptions {
  metric: Metric;
  method?: Method;
  confidence?: number;
  /** Name of the control variant; default "control" when present, else the first name in sort order. */
  control?: string;
  /** Configured traffic shares, in the variants' sort order; default equal. */
  expectedShares?: number[];
}

export interface VariantRow {
  name: string;
  n: number;
  mean: number;
  ci: [number, number];
  /** Rate metrics: the successes behind the mean. */
  successes?: number;
  sd?: number;
}

export interface TestRow {
  name: string;
  /** "treatment vs control" for pairwise rows; absent for omnibus tests. */
  comparison?: string;
  statistic: number;
  pValue: number;
  /** Holm-adjusted p-value where several pairs were compared. */
  adjustedPValue?: number;
  df?: number | [number, number];
  estimate?: number;
  ci?: [number, number];
}

export interface LiftRow {
  name: string;
  estimate: number;
  ci: [number, number];
}

export interface BayesRow {
  name: string;
  probabilityBest: number;
  expectedLoss: number;
  /** Posterior credible interval of the relative lift over the control (rates only). */
  liftCi?: [number, number];
}

export interface AnalysisReport {
  metric: Metric;
  kind: 'rate' | 'continuous';
  control: string;
  confidence: number;
  variants: VariantRow[];
  srm: SrmResult;
  tests: TestRow[];
  lifts: LiftRow[];
  bayesian: BayesRow[];
  verdict: string;
}
