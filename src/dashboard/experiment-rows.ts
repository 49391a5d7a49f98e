/**
 * The experiments panel from live counts: for each experiment seen in the impressions, the analysis
 * `croupier analyze --metric ctr` computes (src/analyze: per-variant CTR with its interval, lift over the
 * control, the always-valid mSPRT interval of the difference, P(best) and expected loss, the sample-ratio check
 * against the configured weights) and its verdict. The sample-ratio check counts users, the units the split
 * assigns (analyze over an impressions file can only count impressions, which a user's session length skews), and
 * the verdict is read with it. An experiment with one variant so far shows its counts only.
 */
import { analyzeRates } from '../analyze/index.ts';
import { verdictOf } from '../analyze/verdict.ts';
import type { ExperimentsConfig } from '../experiments/config.ts';
import { sampleRatioMismatch } from '../stats/index.ts';
import type { ExperimentCounts } from './clickstream-tally.ts';

export interface VariantFigures {
  name: string;
  impressions: number;
  clicks: number;
  ctr: number;
  ci: [number, number] | null;
  /** Relative lift over the control, with its interval; null for the control. */
  lift: { estimate: number; ci: [number, number] } | null;
  probabilityBest: number | null;
  expectedLoss: number | null;
}

export interface ExperimentFigures {
  name: string;
  control: string | null;
  variants: VariantFigures[];
  /** Sample-ratio check of the users per variant against the configured weights. */
  srm: { users: number[]; pValue: number; mismatch: boolean } | null;
  /** The always-valid (mSPRT) interval of treatment − control CTR, two variants only. */
  alwaysValid: { estimate: number; ci: [number, number]; pValue: number } | null;
  verdict: string;
}

/** Configured weights of an experiment's variants, in the variants' name order (what analyze expects). */
function configuredShares(config: ExperimentsConfig | undefined, experiment: string, names: string[]) {
  for (const layer of config?.layers ?? []) {
    const found = layer.experiments.find((e) => e.name === experiment);
    if (found === undefined) continue;
    const weights = [...names].sort().map((n) => found.variants.find((v) => v.name === n)?.weight);
    if (weights.some((w) => w === undefined)) return undefined;
    const total = (weights as number[]).reduce((a, b) => a + b, 0);
    return (weights as number[]).map((w) => w / total);
  }
  return undefined;
}

function countsOnly(
  name: string,
  tallies: ReadonlyMap<string, { successes: number; trials: number }>,
  why: string,
): ExperimentFigures {
  return {
    name,
    control: null,
    variants: [...tallies].map(([variant, t]) => ({
      name: variant,
      impressions: t.trials,
      clicks: t.successes,
      ctr: t.trials > 0 ? t.successes / t.trials : 0,
      ci: null,
      lift: null,
      probabilityBest: null,
      expectedLoss: null,
    })),
    srm: null,
    alwaysValid: null,
    verdict: why,
  };
}

/** One experiment's figures from its per-variant counts. */
export function experimentFigures(
  name: string,
  counts: ExperimentCounts,
  config: ExperimentsConfig | undefined,
): ExperimentFigures {
  const tallies = counts.rates;
  if (tallies.size < 2) return countsOnly(name, tallies, 'waiting for a second variant to be dealt');
  let report: ReturnType<typeof analyzeRates>;
  try {
    const names = [...tallies.keys()];
    const shares = configuredShares(config, name, names);
    const options = { metric: 'ctr' as const, ...(shares ? { expectedShares: shares } : {}) };
    const byImpressions = analyzeRates(tallies, options);
    // Users in the report's row order (control first); shares are given in name order.
    const users = byImpressions.variants.map((v) => counts.users.get(v.name) ?? 0);
    const sorted = [...names].sort();
    const srm = sampleRatioMismatch(
      users,
      shares === undefined ? undefined : byImpressions.variants.map((v) => shares[sorted.indexOf(v.name)]),
    );
    const withUsers = { ...byImpressions, srm };
    report = { ...withUsers, verdict: verdictOf(withUsers) };
  } catch (error) {
    return countsOnly(name, tallies, (error as Error).message);
  }
  const sequential = report.tests.find((t) => t.name.startsWith('mSPRT'));
  return {
    name,
    control: report.control,
    variants: report.variants.map((v) => {
      const lift = report.lifts.find((l) => l.name === v.name);
      const bayes = report.bayesian.find((b) => b.name === v.name);
      return {
        name: v.name,
        impressions: v.n,
        clicks: v.successes ?? 0,
        ctr: v.mean,
        ci: v.ci,
        lift: lift ? { estimate: lift.estimate, ci: lift.ci } : null,
        probabilityBest: bayes?.probabilityBest ?? null,
        expectedLoss: bayes?.expectedLoss ?? null,
      };
    }),
    srm: {
      users: report.variants.map((v) => counts.users.get(v.name) ?? 0),
      pValue: report.srm.pValue,
      mismatch: report.srm.mismatch,
    },
    alwaysValid:
      sequential?.estimate !== undefined && sequential.ci !== undefined
        ? { estimate: sequential.estimate, ci: sequential.ci, pValue: sequential.pValue }
        : null,
    verdict: report.verdict,
  };
}
