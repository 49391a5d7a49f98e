/**
 * The promotion gate as the CLI and the scheduled job ask it: the candidate's lineage evidence (holdout metrics
 * against the model that was active), plus the off-policy comparison measured now by the configured estimator
 * (the shadow test of the candidate model on the archive's logged candidate sets, unless `train.gate.offPolicy` is
 * off).
 */
import type { ArchiveFileSystem } from '../archive/fs/archive-fs.ts';
import type { Config } from '../config/index.ts';
import { evaluateGate, type GateDecision, type OffPolicyEstimator } from '../models/gate.ts';
import type { Lineage } from '../models/lineage.ts';
import { shadowTestEstimator } from './shadow-test-estimator.ts';

export function offPolicyEstimatorFor(
  config: Readonly<Config>,
  archive: ArchiveFileSystem,
): OffPolicyEstimator | null {
  if (config.train.gate.offPolicy === 'off') return null;
  return shadowTestEstimator({
    archive,
    attributionSeconds: config.train.watch.attributionSeconds,
    memoryLimit: config.train.memoryLimit,
    tempDir: config.train.tempDir,
  });
}

/** The gate's decision for `lineage`'s version against `active`, measured now. */
export async function judgeCandidate(options: {
  config: Readonly<Config>;
  lineage: Lineage;
  active: string;
  estimator: OffPolicyEstimator | null;
}): Promise<GateDecision> {
  const { config, lineage, active, estimator } = options;
  const gate = config.train.gate;
  const comparison = estimator
    ? await estimator.compare({
        candidate: lineage.version,
        active,
        fromMs: Date.parse(lineage.created),
        confidence: gate.offPolicyConfidence,
      })
    : null;
  return evaluateGate(lineage.gateEvidence, active, gate, comparison);
}
