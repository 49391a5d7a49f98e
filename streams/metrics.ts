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
  /**
   * Records not yet applied (the last high watermark fetched minus the offset Redis holds), summed over
   * assigned partitions, and per `topic:partition`.
   */
  lag: number;
  lagByPartition: Record<string, number>;
  /**
   * Partitions with records waiting that have not advanced for `stallAfterMs` (a Redis outage, or a fault the
   * topology cannot get past): `topic:partition` → milliseconds since the partition last advanced.
   */
  stalled: Record<string, number>;
  /** Dead letters per error code. */
  deadLetters: Record<string, number>;
  /** Batches whose records were all applied before (redelivery after a crash or rebalance). */
  duplicateBatches: number;
  /** Seeks back to the offset Redis holds (Redis lost writes). */
  rewinds: number;
  /** Times a partition's state was found lost in Redis (then folded again from Kafka). */
  stateLosses: number;
  /** Partitions whose state is being rebuilt: `topic:partition` → the offset that completes it. */
  rebuilding: Record<string, number>;
  /**
   * Times a partition's Kafka log was found to have started again below the offset Redis holds (a broker that
   * kept no data restarted, a topic deleted and made again): followed as a new log from its start.
   */
  logRestarts: number;
  /** Records removed from the log (retention) before they were applied: the partition went on from the log start. */
  recordsMissed: number;
  /** Failures that made the topology wait and retry (Redis or the registry unavailable). */
  retries: number;
  /** State script calls sent. */
  redisCalls: number;
  assignedPartitions: number;
  /**
   * Partitions of the topology's topics that another member of its consumer group holds, with records waiting
   * (their log end past the offset Redis holds) that have not advanced for `stallAfterMs`: `topic:partition` →
   * { ms since they last advanced, records waiting }. Another croupier that is slow or stopped, or a client that is
   * not croupier's joined the group: the state of those partitions stands still, whoever holds them.
   */
  stalledElsewhere: Record<string, { ms: number; waiting: number }>;
  lastError: string | null;
  /**
   * Milliseconds the longest of the topology's calls still retried has been failing (0: none retried): Redis refusing
   * its writes (`OOM` at its maxmemory, `READONLY`, `MISCONF`) or the registry unavailable. It is reported long before
   * `stalled`, which waits for `stallAfterMs`.
   */
  failingForMs: number;
}

/** Where a partition stands: the high watermark last fetched, the offset applied, and since when. */
interface PartitionProgress {
  highWatermark: number;
  applied: number;
  advancedAt: number;
}

/** Records of the partition not yet applied. */
const behindOf = (p: PartitionProgress): number => Math.max(0, p.highWatermark - p.applied - 1);

export class StreamMetrics {
  records = 0;
  batches = 0;
  private batchRecordSum = 0;
  private maxBatch = 0;
  private readonly progress = new Map<string, PartitionProgress>();
  private readonly dead = new Map<string, number>();
  duplicateBatches = 0;
  rewinds = 0;
  stateLosses = 0;
  logRestarts = 0;
  recordsMissed = 0;
  private readonly rebuilds = new Map<string, number>();
  retries = 0;
  assignedPartitions = 0;
  lastError: string | null = null;
  /** What is being retried (a partition's batch, the stored offsets, the scripts) → since when. */
  private readonly failingSince = new Map<string, number>();
  private windowStart = Date.now();
  private windowRecords = 0;

  constructor(
    private readonly redisCalls: () => number,
    private readonly stallAfterMs = 30_000,
  ) {}

  batchApplied(records: number): void {
    this.records += records;
    this.windowRecords += records;
    this.batches++;
    this.batchRecordSum += records;
    if (records > this.maxBatch) this.maxBatch = records;
  }

  /** Partitions of the topics that another member of the group holds (see `heldElsewhere`). */
  private readonly elsewhere = new Map<string, PartitionProgress>();

  /** Highest offset counted as dead-lettered, per partition: a batch fetched again is not counted twice. */
  private readonly deadCountedUpTo = new Map<string, number>();

  /** Counts a dead letter of `partitionKey` at `offset` once, however often its batch is processed. */
  deadLettered(partitionKey: string, offset: number, code: string): void {
    if (offset <= (this.deadCountedUpTo.get(partitionKey) ?? -1)) return;
    this.deadCountedUpTo.set(partitionKey, offset);
    this.dead.set(code, (this.dead.get(code) ?? 0) + 1);
  }

  /** A batch of `partitionKey` was fetched: the log reaches `highWatermark`; `applied` is what Redis holds. */
  fetched(partitionKey: string, highWatermark: number, applied: number, now = Date.now()): void {
    const p = this.progress.get(partitionKey);
    if (p === undefined) this.progress.set(partitionKey, { highWatermark, applied, advancedAt: now });
    else p.highWatermark = Math.max(p.highWatermark, highWatermark);
  }

  /** A failure of `what` (a partition's key, or a call of the topology's own) that the topology waits on and retries. */
  retried(error: unknown, what: string, now = Date.now()): void {
    this.retries++;
    this.lastError = (error as Error).message;
    if (!this.failingSince.has(what)) this.failingSince.set(what, now);
  }

  /** The retries of `what` ended: it succeeded, or is no longer tried (a partition revoked, the topology closing). */
  retriesEnded(what: string): void {
    this.failingSince.delete(what);
  }

  /** The partition's stored offset is now `applied` (a batch applied, or found applied before). */
  advanced(partitionKey: string, applied: number, now = Date.now()): void {
    this.failingSince.delete(partitionKey);
    const p = this.progress.get(partitionKey);
    if (p === undefined)
      this.progress.set(partitionKey, { highWatermark: applied + 1, applied, advancedAt: now });
    else if (applied !== p.applied) {
      p.applied = applied;
      p.advancedAt = now;
    }
  }

  /** What the partition's marker says: rebuilding until `until`, or (null) whole. */
  rebuildingUntil(partitionKey: string, until: number | null): void {
    if (until === null) this.rebuilds.delete(partitionKey);
    else this.rebuilds.set(partitionKey, until);
  }

  /** The partition's log started again: what was noted of the old log (its high watermark) no longer holds. */
  logRestarted(partitionKey: string, applied: number, now = Date.now()): void {
    this.logRestarts++;
    this.progress.set(partitionKey, { highWatermark: applied + 1, applied, advancedAt: now });
    this.rebuilds.delete(partitionKey);
  }

  /**
   * A partition another member holds: its log end and the offset Redis holds of it, as last read. Never counted in
   * this topology's own lag (another member applies it); reported once it has records waiting and does not advance.
   */
  heldElsewhere(partitionKey: string, logEnd: number, applied: number, now = Date.now()): void {
    const p = this.elsewhere.get(partitionKey);
    if (p === undefined)
      this.elsewhere.set(partitionKey, { highWatermark: logEnd, applied, advancedAt: now });
    else {
      p.highWatermark = logEnd;
      if (applied !== p.applied) {
        p.applied = applied;
        p.advancedAt = now;
      }
    }
  }

  /** The partition is this member's again (or gone): no longer watched as another's. */
  notHeldElsewhere(partitionKey: string): void {
    this.elsewhere.delete(partitionKey);
  }

  forgetPartitions(keep: ReadonlySet<string>): void {
    for (const key of this.progress.keys()) if (!keep.has(key)) this.progress.delete(key);
    for (const key of this.rebuilds.keys()) if (!keep.has(key)) this.rebuilds.delete(key);
  }

  /** Whether the partition has records waiting and has not advanced for `stallAfterMs`. */
  private stands(p: PartitionProgress, now: number): boolean {
    return behindOf(p) > 0 && now - p.advancedAt >= this.stallAfterMs;
  }

  /** The counters; `reset` starts a new events/s window (the periodic log does, `metrics()` does not). */
  snapshot(reset = false): StreamMetricsSnapshot {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.windowStart) / 1000);
    const lagByPartition: Record<string, number> = {};
    const stalled: Record<string, number> = {};
    let lag = 0;
    for (const [key, p] of this.progress) {
      const behind = behindOf(p);
      lagByPartition[key] = behind;
      lag += behind;
      if (this.stands(p, now)) stalled[key] = now - p.advancedAt;
    }
    const stalledElsewhere: Record<string, { ms: number; waiting: number }> = {};
    for (const [key, p] of this.elsewhere) {
      if (this.stands(p, now)) stalledElsewhere[key] = { ms: now - p.advancedAt, waiting: behindOf(p) };
    }
    const snapshot: StreamMetricsSnapshot = {
      records: this.records,
      batches: this.batches,
      recordsPerSecond: Math.round(this.windowRecords / seconds),
      averageBatchSize: this.batches === 0 ? 0 : Math.round(this.batchRecordSum / this.batches),
      maxBatchSize: this.maxBatch,
      lag,
      lagByPartition,
      stalled,
      deadLetters: Object.fromEntries(this.dead),
      duplicateBatches: this.duplicateBatches,
      rewinds: this.rewinds,
      stateLosses: this.stateLosses,
      rebuilding: Object.fromEntries(this.rebuilds),
      logRestarts: this.logRestarts,
      recordsMissed: this.recordsMissed,
      retries: this.retries,
      redisCalls: this.redisCalls(),
      assignedPartitions: this.assignedPartitions,
      stalledElsewhere,
      lastError: this.lastError,
      failingForMs: Math.max(0, ...[...this.failingSince.values()].map((since) => now - since)),
    };
    if (reset) {
      this.windowStart = now;
      this.windowRecords = 0;
    }
    return snapshot;
  }
}
