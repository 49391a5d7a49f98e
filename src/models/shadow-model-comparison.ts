/**
 * The gate's off-policy comparison, made with the shadow test's estimators (`evaluateShadow` of src/shadow): of the
 * logged carousels, those the active model dealt whose candidate sets the candidate model also scored in shadow
 * (`model.shadowVersion`); the serving policy replayed on them with the candidate model's p̂ — what `croupier
 * shadow --candidate policy=<logged policy>,model=<candidate>` reports — against the logged policy, by doubly
 * robust estimation, with the lift's bootstrap interval resampled by carousel. Pure.
 */
import type { PolicyName } from '../domain/policy-names.ts';
import type { EstimatorName } from '../shadow/estimators.ts';
import { evaluateShadow } from '../shadow/evaluate-shadow.ts';
import type { LoggedCarousel } from '../shadow/logged-carousel.ts';
import type { CandidateSpec } from '../shadow/policy-spec.ts';
import type { OffPolicyComparison } from './gate.ts';

export interface ShadowModelComparisonOptions {
  /** Bootstrap resamples (default 500). */
  replicates?: number;
  /** Seed of the bootstrap and the replayed slates (default 1). */
  seed?: number;
  /** The estimator the comparison reads (default 'dr', as croupier shadow's verdicts). */
  estimator?: EstimatorName;
}

/** The policy that dealt most of `carousels` (experiments may deal some with another). */
function mostCommonPolicy(carousels: readonly LoggedCarousel[]): PolicyName {
  const counts = new Map<PolicyName, number>();
  for (const c of carousels) counts.set(c.policy, (counts.get(c.policy) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0][0];
}

/**
 * The candidate model's policy against the active one's on the carousels `candidate` scored in shadow; null when
 * none did (or none is usable).
 */
export function compareShadowModel(
  carousels: readonly LoggedCarousel[],
  request: { candidate: string; active: string; confidence: number },
  options: ShadowModelComparisonOptions = {},
): OffPolicyComparison | null {
  const scored = carousels.filter(
    (c) =>
      c.modelVersion === request.active &&
      c.candidates !== null &&
      c.candidates.shadowModelVersion === request.candidate &&
      c.candidates.shadowScores !== null,
  );
  if (scored.length === 0) return null;
  const policy = mostCommonPolicy(scored);
  const dealt = scored.filter((c) => c.policy === policy);
  const spec: CandidateSpec = {
    label: `policy=${policy},model=${request.candidate}`,
    policy,
    model: request.candidate,
  };
  const estimator = options.estimator ?? 'dr';
  const replicates = options.replicates ?? 500;
  let report: ReturnType<typeof evaluateShadow>;
  try {
    report = evaluateShadow(dealt, [spec], {
      replicates,
      confidence: request.confidence,
      seed: options.seed ?? 1,
      verdictEstimator: estimator,
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'CROUPIER_ERR_SHADOW_NO_DATA') return null;
    throw error;
  }
  const [candidate] = report.candidates;
  const ctr = candidate.metrics.ctr;
  const caution = candidate.verdict.supported
    ? ''
    : `; CAUTION: ${(100 * (candidate.diagnostics.outsideSupport ?? 0)).toFixed(1)} % of its (item, slot) mass lies where the logging policy never plays`;
  return {
    method: `${estimator.toUpperCase()} of ${spec.label} over ${report.carousels.evaluated} carousels whose candidate sets ${request.candidate} scored in shadow (croupier shadow's estimators, ${replicates} bootstrap resamples by carousel)${caution}`,
    rows: report.impressions,
    effectiveSampleSize: candidate.diagnostics.effectiveSampleSize,
    candidate: ctr.estimates[estimator].estimate,
    active: ctr.estimates.logged.estimate,
    difference: ctr.lift[estimator].estimate,
    ci: ctr.lift[estimator].ci,
    confidence: request.confidence,
  };
}
