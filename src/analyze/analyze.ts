/**
 * The analysis `croupier analyze` prints, as plain data computed from per-variant tallies by the stats
 * library: per-variant estimates, the sample ratio check, the test that fits the metric (two-sample
 * proportion z-test for rates; Welch t and Mann–Whitney for continuous metrics; χ² or ANOVA plus pairwise
 * Holm-corrected tests for more than two variants), relative lifts against the control with delta-method
 * intervals, Bayesian P(best) and expected loss, and a verdict in one sentence.
 */

import { CroupierError } from '../errors/index.ts';
import {
  adjustPValues,
  anovaOneWay,
  betaBinomialAB,
  chiSquaredIndependence,
  ctr,
  decisionFigures,
  mannWhitneyU,
  msprtTwoProportions,
  normal,
  pairwiseTests,
  proportionSummary,
  proportionZTest,
  relativeLift,
  type SrmResult,
  sampleRatioMismatch,
  summarize,
  tTest,
  welchTTest,
} from '../stats/index.ts';
import type { AnalysisOptions, AnalysisReport, BayesRow, TestRow, VariantRow } from './analysis-report.ts';
import { verdictOf } from './verdict.ts';

function pickControl(names: string[], control: string | undefined): string {
  if (control !== undefined) {
    if (!names.includes(control)) {
      throw new CroupierError(
        'CROUPIER_ERR_ANALYZE_NO_DATA',
        `control variant "${control}" has no events; variants found: ${names.join(', ')}`,
        { control, variants: names },
      );
    }
    return control;
  }
  return names.includes('control') ? 'control' : names[0];
}

function checkVariants(names: string[]): void {
  if (names.length < 2) {
    throw new CroupierError(
      'CROUPIER_ERR_ANALYZE_NO_DATA',
      `found ${names.length === 0 ? 'no variant' : `one variant only (${names[0]})`}: an experiment needs at least two; check --variant-field`,
      { variants: names },
    );
  }
}

/** Control first, then the others in name order. */
function orderNames(
  names: Iterable<string>,
  control: string | undefined,
): { names: string[]; control: string } {
  const sorted = [...names].sort();
  checkVariants(sorted);
  const chosen = pickControl(sorted, control);
  return { names: [chosen, ...sorted.filter((n) => n !== chosen)], control: chosen };
}

function srmOf(
  counts: number[],
  shares: number[] | undefined,
  sortedNames: string[],
  names: string[],
): SrmResult {
  // Shares are given in sort order; the rows are control-first.
  const ordered = shares === undefined ? undefined : names.map((n) => shares[sortedNames.indexOf(n)]);
  return sampleRatioMismatch(counts, ordered);
}

/** Analysis of a 0/1 metric from successes and trials per variant. */
export function analyzeRates(
  tallies: ReadonlyMap<string, { successes: number; trials: number }>,
  options: AnalysisOptions,
): AnalysisReport {
  const method = options.method ?? 'both';
  const confidence = options.confidence ?? 0.95;
  const { names, control } = orderNames(tallies.keys(), options.control);
  const rows = names.map((name) => ({ name, ...tallies.get(name)! }));
  const variants: VariantRow[] = rows.map((r) => {
    const rate = ctr(r.successes, r.trials, { confidence });
    return { name: r.name, n: r.trials, successes: r.successes, mean: rate.estimate, ci: rate.ci };
  });
  const srm = srmOf(
    rows.map((r) => r.trials),
    options.expectedShares,
    [...names].sort(),
    names,
  );
  const c = rows[0];
  const lifts = rows.slice(1).flatMap((r) => {
    const l = unlessDegenerate(() =>
      relativeLift(proportionSummary(r.successes, r.trials), proportionSummary(c.successes, c.trials), {
        confidence,
      }),
    );
    return l === undefined ? [] : [{ name: r.name, estimate: l.estimate, ci: l.ci }];
  });
  const tests: TestRow[] = [];
  if (method !== 'bayesian') {
    if (rows.length > 2) {
      const chi = unlessDegenerate(() =>
        chiSquaredIndependence(rows.map((r) => [r.successes, r.trials - r.successes])),
      );
      if (chi !== undefined) {
        tests.push({
          name: 'chi-squared test of independence',
          statistic: chi.statistic,
          pValue: chi.pValue,
          df: chi.df,
        });
      }
    }
    const pairs: TestRow[] = [];
    for (let i = 0; i < rows.length; i++) {
      for (let j = i + 1; j < rows.length; j++) {
        // Treatment minus control: the later row against the earlier (the control comes first).
        const z = unlessDegenerate(() =>
          proportionZTest([rows[j].successes, rows[i].successes], [rows[j].trials, rows[i].trials], {
            confidence,
          }),
        );
        if (z === undefined) continue;
        pairs.push({
          name: 'two-sample proportion z-test',
          comparison: `${rows[j].name} vs ${rows[i].name}`,
          statistic: z.statistic,
          pValue: z.pValue,
          estimate: z.estimate,
          ci: z.ci,
        });
      }
    }
    if (pairs.length > 1) {
      const adjusted = adjustPValues(
        pairs.map((p) => p.pValue),
        'holm',
      );
      pairs.forEach((p, i) => {
        p.adjustedPValue = adjusted[i];
      });
    }
    tests.push(...pairs);
    if (rows.length === 2) {
      // The always-valid p-value: what may be read at any time while the experiment still runs.
      const seq = msprtTwoProportions(rows[1], rows[0], { alpha: 1 - confidence });
      tests.push({
        name: 'mSPRT (always valid)',
        statistic: seq.statistic,
        pValue: seq.pValue,
        estimate: seq.estimate,
        ci: seq.ci,
      });
    }
  }
  const bayesian: BayesRow[] = [];
  if (method !== 'frequentist') {
    const ab = betaBinomialAB(
      rows.map((r) => ({ name: r.name, successes: r.successes, trials: r.trials })),
      { confidence },
    );
    for (const v of ab.variants) {
      const lift = ab.lifts.find((l) => l.name === v.name);
      bayesian.push({
        name: v.name,
        probabilityBest: v.probabilityBest,
        expectedLoss: v.expectedLoss,
        liftCi: lift?.ci,
      });
    }
  }
  const report = {
    metric: options.metric,
    kind: 'rate' as const,
    control,
    confidence,
    variants,
    srm,
    tests,
    lifts,
    bayesian,
  };
  return { ...report, verdict: verdictOf(report) };
}

/** Analysis of a continuous metric from every value per variant. */
export function analyzeContinuous(
  samples: ReadonlyMap<string, Float64Array>,
  options: AnalysisOptions,
): AnalysisReport {
  const method = options.method ?? 'both';
  const confidence = options.confidence ?? 0.95;
  const { names, control } = orderNames(samples.keys(), options.control);
  const groups = names.map((name) => samples.get(name)!);
  groups.forEach((g, i) => {
    if (g.length < 2) {
      throw new CroupierError(
        'CROUPIER_ERR_ANALYZE_NO_DATA',
        `variant ${names[i]} has ${g.length} value(s): a continuous metric needs at least 2 per variant`,
        { variant: names[i] },
      );
    }
  });
  const summaries = groups.map((g) => summarize(g));
  const variants: VariantRow[] = groups.map((g, i) => ({
    name: names[i],
    n: g.length,
    mean: summaries[i].mean,
    sd: Math.sqrt(summaries[i].variance),
    ci:
      summaries[i].variance > 0
        ? (tTest(g, { confidence }).ci as [number, number])
        : [summaries[i].mean, summaries[i].mean],
  }));
  const srm = srmOf(
    groups.map((g) => g.length),
    options.expectedShares,
    [...names].sort(),
    names,
  );
  const lifts = summaries.slice(1).flatMap((s, i) => {
    const l = unlessDegenerate(() => relativeLift(s, summaries[0], { confidence }));
    return l === undefined ? [] : [{ name: names[i + 1], estimate: l.estimate, ci: l.ci }];
  });
  const tests: TestRow[] = [];
  if (method !== 'bayesian') {
    unlessDegenerate(() => continuousTests(names, groups, confidence, tests));
  }
  const bayesian: BayesRow[] = [];
  if (method !== 'frequentist' && summaries.every((s) => s.variance > 0)) {
    // Flat prior: each mean's posterior is approximately N(mean, variance / n).
    const posteriors = summaries.map((s) => {
      const sd = Math.sqrt(s.variance / s.n);
      return { mean: s.mean, sd, dist: normal({ mean: s.mean, sd }) };
    });
    const figures = decisionFigures(posteriors, 0, [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]);
    names.forEach((name, j) => {
      bayesian.push({ name, probabilityBest: figures.best[j], expectedLoss: figures.loss[j] });
    });
  }
  const report = {
    metric: options.metric,
    kind: 'continuous' as const,
    control,
    confidence,
    variants,
    srm,
    tests,
    lifts,
    bayesian,
  };
  return { ...report, verdict: verdictOf(report) };
}

/** Welch t and Mann–Whitney for two variants; ANOVA and Holm-corrected pairwise Welch tests for more. */
function continuousTests(
  names: string[],
  groups: Float64Array[],
  confidence: number,
  tests: TestRow[],
): void {
  if (groups.length === 2) {
    const t = welchTTest(groups[1], groups[0], { confidence });
    tests.push({ name: 'Welch two-sample t-test', comparison: `${names[1]} vs ${names[0]}`, ...pick(t) });
    const u = mannWhitneyU(groups[1], groups[0]);
    tests.push({ name: 'Mann–Whitney U test', comparison: `${names[1]} vs ${names[0]}`, ...pick(u) });
  } else {
    const f = anovaOneWay(groups);
    tests.push({ name: 'one-way ANOVA', statistic: f.statistic, pValue: f.pValue, df: f.df });
    const record = Object.fromEntries(names.map((n, i) => [n, groups[i]]));
    for (const p of pairwiseTests(record, { test: 'welch', correction: 'holm' })) {
      // pairwiseTests estimates a − b with a listed first (the control); flip to "later vs earlier",
      // so every comparison reads treatment minus control as in the rate branch.
      const r = p.result;
      tests.push({
        name: 'Welch two-sample t-test',
        comparison: `${p.b} vs ${p.a}`,
        statistic: -r.statistic,
        pValue: r.pValue,
        adjustedPValue: p.adjustedPValue,
        df: r.df,
        estimate: r.estimate === undefined ? undefined : -r.estimate,
        ci: r.ci === undefined ? undefined : [-r.ci[1], -r.ci[0]],
      });
    }
  }
}

/** Runs a computation degenerate data cannot support (no variance, a control mean of 0): undefined then. */
function unlessDegenerate<T>(compute: () => T): T | undefined {
  try {
    return compute();
  } catch (error) {
    const code = error instanceof CroupierError ? error.code : undefined;
    if (code === 'CROUPIER_ERR_STATS_ZERO_VARIANCE' || code === 'CROUPIER_ERR_STATS_INVALID_ARGUMENT')
      return undefined;
    throw error;
  }
}

function pick(t: {
  statistic: number;
  pValue: number;
  df?: number | [number, number];
  estimate?: number;
  ci?: [number, number];
}): Omit<TestRow, 'name'> {
  return { statistic: t.statistic, pValue: t.pValue, df: t.df, estimate: t.estimate, ci: t.ci };
}
