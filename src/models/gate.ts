/**
 * The promotion gate: a candidate becomes the active model only when its parity check passed, its holdout log
 * loss beats the active model's by the configured margin, its AUC is not worse than the active model's beyond
 * the paired interval (the interval of candidate − active lies not wholly below 0), all measured on the same
 * holdout rows against the model that is active now, and the off-policy estimate of its policy is not below
 * the active one's with the configured confidence. Pure: the off-policy comparison comes from an estimator
 * behind `OffPolicyEstimator`, measured when the gate is asked.
 */
import type { GateEvidence } from './lineage.ts';

export interface GateSettings {
  logLossMargin: number;
  requireAucNotWorse: boolean;
  /** `when-available` (default): checked when an estimate exists; `required`: refused without one. */
  offPolicy?: 'off' | 'when-available' | 'required';
  offPolicyConfidence?: number;
  /** Fewest logged rows an estimate needs to count as evidence. */
  offPolicyMinRows?: number;
}

/** The candidate's policy against the active one's, estimated off-policy from logged decisions. */
export interface OffPolicyComparison {
  /** The estimator and its data, e.g. "DR of policy=thompson,model=v2 over 800 carousels whose candidate sets v2 scored in shadow". */
  method: string;
  /** Logged rows (shown items) the estimate used, and what they are worth on-policy (Kish). */
  rows: number;
  effectiveSampleSize: number;
  /** Estimated value (clicks per shown item) of each policy. */
  candidate: number;
  active: number;
  /** Candidate minus active, with its interval. */
  difference: number;
  ci: [number, number];
  confidence: number;
}

/**
 * Whatever estimates the candidate's policy off-policy: the shadow test of src/train/shadow-test-estimator.ts (the
 * estimators of src/shadow on candidate sets the candidate scored in shadow). null: no logged data to judge by.
 */
export interface OffPolicyEstimator {
  readonly name: string;
  compare(request: {
    candidate: string;
    active: string;
    /** Decisions logged from this instant on (the candidate's creation). */
    fromMs: number;
    confidence: number;
  }): Promise<OffPolicyComparison | null>;
}

export interface GateCheck {
  name: string;
  passed: boolean;
  detail: string;
}

export interface GateDecision {
  passed: boolean;
  checks: GateCheck[];
}

const f = (x: number, digits = 5) => x.toFixed(digits);

function offPolicyCheck(
  comparison: OffPolicyComparison | null | undefined,
  settings: GateSettings,
): GateCheck | null {
  const mode = settings.offPolicy ?? 'when-available';
  if (mode === 'off') return null;
  const minRows = settings.offPolicyMinRows ?? 1;
  if (comparison === null || comparison === undefined || comparison.rows < minRows) {
    const why =
      comparison === null || comparison === undefined
        ? "no carousel's candidate set was scored by the candidate in shadow yet (run it with model.shadowVersion)"
        : `only ${comparison.rows} shown items with shadow scores, fewer than the ${minRows} required (train.gate.offPolicyMinRows)`;
    return {
      name: 'off-policy',
      passed: mode === 'when-available',
      detail: `${why}: ${mode === 'when-available' ? 'not checked (train.gate.offPolicy is when-available)' : 'train.gate.offPolicy is required'}`,
    };
  }
  const c = comparison;
  return {
    name: 'off-policy',
    passed: c.ci[1] >= 0,
    detail: `${c.method}: candidate ${f(c.candidate, 4)} vs active ${f(c.active, 4)} clicks per shown item, difference ${f(c.difference, 4)}, ${Math.round(c.confidence * 100)}% interval [${f(c.ci[0], 4)}, ${f(c.ci[1], 4)}] over ${c.rows} rows (effective ${Math.round(c.effectiveSampleSize)})`,
  };
}

export function evaluateGate(
  evidence: GateEvidence,
  activeNow: string,
  settings: GateSettings,
  offPolicy?: OffPolicyComparison | null,
): GateDecision {
  const checks: GateCheck[] = [];
  checks.push({
    name: 'parity',
    passed: evidence.parityPassed,
    detail: evidence.parityPassed
      ? 'ONNX Runtime matches the trainer on the holdout'
      : 'ONNX Runtime differs from the trainer on the holdout',
  });
  if (evidence.comparedWith !== activeNow || evidence.activeLogLoss === null) {
    checks.push({
      name: 'compared with the active model',
      passed: false,
      detail:
        evidence.comparedWith === null
          ? `no comparable active model when trained (another feature spec?); ${activeNow} is active now: retrain to compare`
          : `measured against ${evidence.comparedWith}, but ${activeNow} is active now: retrain to compare`,
    });
    return { passed: false, checks };
  }
  const gain = evidence.activeLogLoss - evidence.candidateLogLoss;
  checks.push({
    name: 'log loss',
    passed: gain >= settings.logLossMargin,
    detail: `candidate ${f(evidence.candidateLogLoss)} vs active ${f(evidence.activeLogLoss)}: better by ${f(gain)}, the margin is ${f(settings.logLossMargin)}`,
  });
  if (settings.requireAucNotWorse) {
    const d = evidence.aucDifference;
    checks.push(
      d === null
        ? {
            name: 'ROC AUC',
            passed: false,
            detail: 'no AUC interval (the holdout lacks clicks or non-clicks)',
          }
        : {
            name: 'ROC AUC',
            passed: d.ci[1] >= 0,
            detail: `candidate − active ${f(d.difference, 4)}, ${Math.round(d.confidence * 100)}% interval [${f(d.ci[0], 4)}, ${f(d.ci[1], 4)}]`,
          },
    );
  }
  const offPolicyResult = offPolicyCheck(offPolicy, settings);
  if (offPolicyResult) checks.push(offPolicyResult);
  return { passed: checks.every((c) => c.passed), checks };
}
