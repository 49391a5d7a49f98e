/**
 * The archive's scheduled jobs inside `croupier start`: compaction of the hours that are over (every
 * `archive.compactIntervalMs`) and retention (`archive.retentionDays`). One run at a time; a failure is logged
 * and the next run tries again.
 */
import type { DuckDBInstance } from '@duckdb/node-api';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import { compactArchive } from './compact.ts';
import type { ArchiveFileSystem } from './fs/archive-fs.ts';
import { applyRetention } from './retention.ts';

/** Scheduled compaction leaves hours alone until they ended this long ago (late records, idle rotation). */
const SETTLE_MS = 10 * 60_000;
const HOUR_MS = 3_600_000;

export function scheduleMaintenance(options: {
  config: Readonly<Config>;
  fs: ArchiveFileSystem;
  duckdb: DuckDBInstance;
  logger: Logger;
}): { stop(): void; idle(): Promise<void> } {
  const a = options.config.archive;
  const logger = options.logger.child({ component: 'archive-maintenance' });
  const interval = a.compactIntervalMs > 0 ? a.compactIntervalMs : a.retentionDays > 0 ? HOUR_MS : 0;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  if (interval === 0) return { stop() {}, idle: () => running };

  async function runOnce(): Promise<void> {
    await applyRetention(options.fs, a.retentionDays, logger);
    if (a.compactIntervalMs > 0 && !stopped) {
      const result = await compactArchive({
        fs: options.fs,
        duckdb: options.duckdb,
        targetBytes: a.compactTargetBytes,
        compression: a.compression,
        minAgeMs: Math.max(SETTLE_MS, a.idleRotateMs),
        logger,
      });
      if (result.merged > 0 || result.failed > 0)
        logger.info(
          { merged: result.merged, removed: result.removed, failed: result.failed },
          'archive compaction done',
        );
    }
  }
  const timer = setInterval(() => {
    running = running
      .then(() => (stopped ? undefined : runOnce()))
      .catch((error: unknown) => logger.warn({ err: error }, 'archive maintenance failed'));
  }, interval);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
    idle: () => running,
  };
}
