/**
 * What `/readyz` and `/metrics` say about the archive, where the process runs it (`croupier start`): partitions
 * whose records wait and do not move (the registry down for long, a consumer that stopped, commits refused),
 * as the stream topology's partitions are reported, and the archive's counters.
 */
import type { ArchiveMetricsSnapshot } from '../domain/archive-report.ts';
import { counterLines, gaugeLines } from './metrics.ts';
import { labelled } from './state-health.ts';

/** Reasons the archive is not keeping up (none: it is, or it is not run here). */
export function archiveHealthReasons(archive: ArchiveMetricsSnapshot | undefined): string[] {
  if (archive === undefined) return [];
  const lastError = archive.lastError ? `; last error: ${archive.lastError}` : '';
  return Object.entries(archive.stalled).map(
    ([partition, ms]) =>
      `archive partition ${partition} has not advanced for ${Math.round(ms / 1000)} s (${archive.lag[partition] ?? 0} records waiting${lastError})`,
  );
}

/** The `/metrics` text of the archive ('' when it is not run here). */
export function archiveHealthMetricsText(archive: ArchiveMetricsSnapshot | undefined): string {
  if (archive === undefined) return '';
  const lines = [
    counterLines('croupier_archive_records_total', 'Records in committed archive files.', archive.records),
    counterLines('croupier_archive_files_total', 'Archive files committed.', archive.files),
    labelled(
      'croupier_archive_failures_total',
      'Archive failures (file system, registry), per kind.',
      'counter',
      'kind',
      archive.failures,
    ),
    gaugeLines(
      'croupier_archive_lag_records',
      'Records in the log not yet in a committed archive file, all partitions.',
      Object.values(archive.lag).reduce((sum, n) => sum + n, 0),
    ),
    labelled(
      'croupier_archive_partition_lag_records',
      'Records in the log not yet in a committed archive file, per partition.',
      'gauge',
      'partition',
      archive.lag,
    ),
    gaugeLines(
      'croupier_archive_stalled_partitions',
      'Archive partitions with records waiting that are not advancing.',
      Object.keys(archive.stalled).length,
    ),
    labelled(
      'croupier_archive_partition_stalled_seconds',
      'Time an archive partition with records waiting has not advanced.',
      'gauge',
      'partition',
      Object.fromEntries(Object.entries(archive.stalled).map(([k, ms]) => [k, ms / 1000])),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
