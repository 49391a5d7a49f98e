/**
 * The off-policy estimator the promotion gate uses today (`OffPolicyEstimator` of src/models/gate.ts): reads
 * from the archive, with `shadow-log.sql`, the shown items of carousels the active model dealt while the
 * candidate ran as the shadow — `shadowPolicy` naming the candidate's version, bare or as `<policy>@<version>`
 * — and compares both policies with `compareShadowLog` (SNIPS). Another estimator (doubly robust, bootstrap
 * intervals) replaces it by implementing the same interface.
 */
import { readFileSync } from 'node:fs';
import type { ArchiveFileSystem } from '../archive/fs/archive-fs.ts';
import type { OffPolicyComparison, OffPolicyEstimator } from '../models/gate.ts';
import { compareShadowLog } from '../models/shadow-log-comparison.ts';
import { queryArchive } from './archive-query.ts';
import { sqlString } from './training-set.ts';

export const SHADOW_LOG_SQL = readFileSync(new URL('./shadow-log.sql', import.meta.url), 'utf8');

export interface ShadowLogEstimatorOptions {
  archive: ArchiveFileSystem;
  attributionSeconds: number;
  memoryLimit: string;
  tempDir: string;
}

async function readShadowLog(
  options: ShadowLogEstimatorOptions,
  request: { candidate: string; active: string; fromMs: number; confidence: number },
): Promise<OffPolicyComparison | null> {
  const window = { fromMs: request.fromMs, toMs: null };
  return queryArchive(
    { ...options, ...window },
    'the shadow-log query',
    null,
    async (connection, columns) => {
      if (!columns.has('shadowpolicy')) return null;
      await connection.run(
        `CREATE TABLE shadow_params AS SELECT ${sqlString(request.active)} AS active_version,
         ${sqlString(request.candidate)} AS shadow_label,
         make_timestamptz(${Math.floor(request.fromMs)}::BIGINT * 1000) AS window_start,
         ${options.attributionSeconds}::BIGINT AS attribution_seconds`,
      );
      const rows = (await connection.runAndReadAll(SHADOW_LOG_SQL)).getRowObjectsJS() as {
        request_id: string;
        propensity: number;
        shadow_propensity: number;
        clicked: number | bigint;
      }[];
      if (rows.length === 0) return null;
      return compareShadowLog(
        {
          reward: Float64Array.from(rows, (r) => Number(r.clicked)),
          propensity: Float64Array.from(rows, (r) => r.propensity),
          targetProbability: Float64Array.from(rows, (r) => r.shadow_propensity),
          carousel: rows.map((r) => r.request_id),
        },
        request.confidence,
      );
    },
  );
}

export function shadowLogEstimator(options: ShadowLogEstimatorOptions): OffPolicyEstimator {
  return {
    name: 'shadow-log SNIPS',
    async compare(request) {
      return readShadowLog(options, request);
    },
  };
}
