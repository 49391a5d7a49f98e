/**
 * What the archive counts: records and files committed, failures by kind (with the last error's text), and each
 * partition's progress (lag, stalls; progress.ts).
 */
import type { ArchiveMetricsSnapshot } from '../domain/archive-report.ts';
import { CroupierError } from '../errors/index.ts';
import { ArchiveProgress, type ArchiveProgressOptions } from './progress.ts';

export type { ArchiveMetricsSnapshot };

export class ArchiveMetrics {
  records = 0;
  files = 0;
  bytes = 0;
  lastError: string | null = null;
  readonly failures: Record<string, number> = {};
  readonly progress: ArchiveProgress;
  firstFetchAt: number | null = null;
  private windowStart = Date.now();
  private windowRecords = 0;

  constructor(progress: ArchiveProgressOptions = { stallAfterMs: 30_000, commitWithinMs: 60_000 }) {
    this.progress = new ArchiveProgress(progress);
  }

  committed(records: number, bytes: number): void {
    this.records += records;
    this.windowRecords += records;
    this.files++;
    this.bytes += bytes;
  }

  /** A batch of records was fetched. */
  fetched(): void {
    this.firstFetchAt ??= Date.now();
  }

  failed(error: unknown): void {
    const kind =
      error instanceof CroupierError
        ? String((error.details as { exception?: string } | undefined)?.exception ?? error.code)
        : ((error as Error)?.name ?? 'Error');
    this.failures[kind] = (this.failures[kind] ?? 0) + 1;
    this.lastError = (error as Error)?.message ?? String(error);
  }

  snapshot(resetWindow = false): ArchiveMetricsSnapshot {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.windowStart) / 1000);
    const { lag, stalled } = this.progress.snapshot(now);
    const out = {
      records: this.records,
      files: this.files,
      bytes: this.bytes,
      recordsPerSecond: Math.round(this.windowRecords / seconds),
      failures: { ...this.failures },
      lastError: this.lastError,
      lag,
      stalled,
      firstFetchAt: this.firstFetchAt,
    };
    if (resetWindow) {
      this.windowStart = now;
      this.windowRecords = 0;
    }
    return out;
  }
}
