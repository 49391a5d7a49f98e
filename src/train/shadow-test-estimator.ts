/**
 * The off-policy estimator of the promotion gate (`OffPolicyEstimator` of src/models/gate.ts): reads from the
 * archive the carousels logged since the candidate was created, with their candidate sets and outcomes
 * (shadow-input.ts, the reader of `croupier shadow --archive`), and compares the candidate model's policy with the
 * active one's with the shadow test's estimators (`compareShadowModel`). A carousel counts once the archive holds
 * its attribution window (a click still to come would otherwise count as none).
 */
import type { ArchiveFileSystem } from '../archive/fs/archive-fs.ts';
import type { OffPolicyEstimator } from '../models/gate.ts';
import { compareShadowModel } from '../models/shadow-model-comparison.ts';
import { carouselsFromArchive } from './shadow-input.ts';

export interface ShadowTestEstimatorOptions {
  archive: ArchiveFileSystem;
  attributionSeconds: number;
  memoryLimit: string;
  tempDir: string;
}

export function shadowTestEstimator(options: ShadowTestEstimatorOptions): OffPolicyEstimator {
  const attributionWindowMs = options.attributionSeconds * 1000;
  return {
    name: 'shadow test',
    async compare(request) {
      const carousels = await carouselsFromArchive(options.archive, {
        fromMs: request.fromMs,
        toMs: null,
        attributionWindowMs,
        memoryLimit: options.memoryLimit,
        tempDir: options.tempDir,
      });
      if (carousels.length === 0) return null;
      const archivedTo = carousels[carousels.length - 1].timestamp;
      const settled = carousels.filter((c) => c.timestamp + attributionWindowMs <= archivedTo);
      return compareShadowModel(settled, request);
    },
  };
}
