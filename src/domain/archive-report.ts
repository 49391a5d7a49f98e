/**
 * What the archive reports of itself, shared by the archive that counts it (src/archive/metrics.ts), the worker
 * thread that passes it on, and the dashboard that shows it.
 */
export interface ArchiveMetricsSnapshot {
  records: number;
  files: number;
  bytes: number;
  recordsPerSecond: number;
  /** Failures by code, or by RemoteException for WebHDFS (e.g. `AccessControlException`). */
  failures: Record<string, number>;
  lastError: string | null;
  /** Records of each partition fetched but not yet in a committed file, plus what Kafka holds beyond. */
  lag: Record<string, number>;
  /** Wall-clock time (ms) the first record was fetched, or null before any. */
  firstFetchAt: number | null;
}
