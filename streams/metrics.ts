/**
 * Counters of a running topology: what it applied, how big its batches were, how far behind it is, what it
 * dead-lettered, and how often Redis made it wait. `snapshot()` is what `metrics()` returns and what the
 * periodic log line prints.
 */

export interface StreamMetricsSnapshot {
  /** Records applied to Redis (good and dead-lettered ones; redeliveries skipped by the offset check excluded). */
  records: number;
  /** Script calls that applied a batch. */
  batches: number;
  /** Records per second since the previous snapshot with `reset` (or since start). */
  recordsPerSecond: number;
  averageBatchSize: number;
  maxBatchSize: number;
  /** Messages behind the high watermark, summed over assigned partitions, and per `topic:partition`. */
  lag: number;
  lagByPartition: Record<string, number>;
  /** Dead letters per error code. */
  deadLetters: Record<string, number>;
  /** Batches whose records were all applied before (redelivery after a crash or rebalance). */
  duplicateBatches: number;
  /** Seeks back to the offset Redis holds (Redis lost writes). */
  rewinds: number;
  /** Failures that made the topology wait and retry (Redis or the registry unavailable). */
  retries: number;
  /** State script calls sent. */
  redisCalls: number;
  assignedPartitions: number;
  lastError: string | null;
}

export class StreamMetrics {
  records = 0;
  batches = 0;
  private batchRecordSum = 0;
  private maxBatch = 0;
  private readonly lag = new Map<string, number>();
  private readonly dead = new Map<string, number>();
  duplicateBatches = 0;
  rewinds = 0;
  retries = 0;
  assignedPartitions = 0;
  lastError: string | null = null;
  private windowStart = Date.now();
  private windowRecords = 0;

  constructor(private readonly redisCalls: () => number) {}

  batchApplied(records: number): void {
    this.records += records;
    this.windowRecords += records;
    this.batches++;
    this.batchRecordSum += records;
    if (records > this.maxBatch) this.maxBatch = records;
  }

  deadLettered(code: string, n = 1): void {
    this.dead.set(code, (this.dead.get(code) ?? 0) + n);
  }

  setLag(partitionKey: string, lag: number): void {
    this.lag.set(partitionKey, Math.max(0, lag));
  }

  forgetPartitions(keep: ReadonlySet<string>): void {
    for (const key of this.lag.keys()) if (!keep.has(key)) this.lag.delete(key);
  }

  /** The counters; `reset` starts a new events/s window (the periodic log does, `metrics()` does not). */
  snapshot(reset = false): StreamMetricsSnapshot {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.windowStart) / 1000);
    const snapshot: StreamMetricsSnapshot = {
      records: this.records,
      batches: this.batches,
      recordsPerSecond: Math.round(this.windowRecords / seconds),
      averageBatchSize: this.batches === 0 ? 0 : Math.round(this.batchRecordSum / this.batches),
      maxBatchSize: this.maxBatch,
      lag: [...this.lag.values()].reduce((a, b) => a + b, 0),
      lagByPartition: Object.fromEntries(this.lag),
      deadLetters: Object.fromEntries(this.dead),
      duplicateBatches: this.duplicateBatches,
      rewinds: this.rewinds,
      retries: this.retries,
      redisCalls: this.redisCalls(),
      assignedPartitions: this.assignedPartitions,
      lastError: this.lastError,
    };
    if (reset) {
      this.windowStart = now;
      this.windowRecords = 0;
    }
    return snapshot;
  }
}
