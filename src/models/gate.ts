/**
 * The promotion gate: a candidate becomes the active model only when its parity check passed, its holdout log
 * loss beats the active model's by the configured margin, and its AUC is not worse than the active model's
 * beyond the paired interval (the interval of candidate − active lies not wholly below 0), all measured on the
 * same holdout rows against the model that is active now. Pure.
 */
import type { GateEvidence } from './lineage.ts';

export interface GateSettings {
  logLossMargin: number;
  requireAucNotWorse: boolean;
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

export function evaluateGate(
  evidence: GateEvidence,
  activeNow: string,
  settings: GateSettings,
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
  return { passed: checks.every((c) => c.passed), checks };
}
