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
  /** Records of each `topic:partition` in the log and not yet in a committed file. */
  lag: Record<string, number>;
  /**
   * Partitions with records waiting that the archive has not taken (or not committed) for `archive.stallAfterMs`:
   * `topic:partition` → milliseconds since they last moved.
   */
  stalled: Record<string, number>;
  /** Wall-clock time (ms) the first record was fetched, or null before any. */
  firstFetchAt: number | null;
}
