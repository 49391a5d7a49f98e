/**
 * Where each archived partition stands, and whether it is stuck: the log end the broker reports, the last offset
 * taken into a file, the last offset in a committed file, and since when each has not moved. Pure (times are
 * passed in); the sink feeds it, its snapshot reaches `/readyz` and `/metrics` through the archive's metrics.
 *
 * A partition is stalled when
 * - records wait in the log beyond what the archive took, and it has taken none for `stallAfterMs` (the registry
 *   down, a consumer that stopped, a fetch that keeps failing), or
 * - records it took wait for a committed file longer than a file stays open (`commitWithinMs`: the rotation
 *   interval) plus `stallAfterMs` (the file system refusing the commits, again and again).
 * Without the log end, a partition whose fetches never return a batch would look idle, not stuck.
 */

/** How a partition is named in the archive's progress (/readyz, /metrics), as the stream topology names it. */
export const progressKeyOf = (topic: string, partition: number): string => `${topic}:${partition}`;

export interface ArchiveProgressOptions {
  stallAfterMs: number;
  /** Longest a record taken into an open file waits for its file's commit when all is well, ms. */
  commitWithinMs: number;
}

export interface ArchiveProgressSnapshot {
  /** Records of each `topic:partition` in the log and not yet in a committed file. */
  lag: Record<string, number>;
  /** Stalled partitions: `topic:partition` → milliseconds since they last moved. */
  stalled: Record<string, number>;
}

interface PartitionProgress {
  /** Offset after the last record in the log (-1: not known yet). */
  logEnd: number;
  /** Highest offset taken into a file (committed or open), never lowered. */
  taken: number;
  committed: number;
  /** Since when records have waited in the log beyond `taken` (null: none wait), and when `taken` last rose. */
  fetchWaitingSince: number | null;
  takenAt: number;
  /** The same for records taken and waiting for a committed file. */
  commitWaitingSince: number | null;
  committedAt: number;
}

export class ArchiveProgress {
  private readonly partitions = new Map<string, PartitionProgress>();

  constructor(private readonly options: ArchiveProgressOptions) {}

  private at(key: string, now: number): PartitionProgress {
    let p = this.partitions.get(key);
    if (p === undefined) {
      p = {
        logEnd: -1,
        taken: -1,
        committed: -1,
        fetchWaitingSince: null,
        takenAt: now,
        commitWaitingSince: null,
        committedAt: now,
      };
      this.partitions.set(key, p);
    }
    return p;
  }

  /** The partition is positioned after its archived files: `committedEnd` is the last offset they hold. */
  positioned(key: string, committedEnd: number, now: number): void {
    const p = this.at(key, now);
    if (committedEnd > p.committed) {
      p.committed = committedEnd;
      p.committedAt = now;
    }
    if (committedEnd > p.taken) {
      p.taken = committedEnd;
      p.takenAt = now;
    }
    this.update(p, now);
  }

  /** The broker's log end of the partition (the offset after its last record). */
  logEnd(key: string, end: number, now: number): void {
    const p = this.partitions.get(key);
    if (p === undefined) return; // not positioned here
    p.logEnd = Math.max(p.logEnd, end);
    this.update(p, now);
  }

  /** Records up to `lastOffset` were taken into the partition's open file. */
  taken(key: string, lastOffset: number, now: number): void {
    const p = this.at(key, now);
    if (lastOffset > p.taken) {
      p.taken = lastOffset;
      p.takenAt = now;
    }
    this.update(p, now);
  }

  /** A file up to `end` was committed. */
  committed(key: string, end: number, now: number): void {
    const p = this.at(key, now);
    if (end > p.committed) {
      p.committed = end;
      p.committedAt = now;
    }
    if (end > p.taken) {
      p.taken = end;
      p.takenAt = now;
    }
    this.update(p, now);
  }

  /** Forgets a partition: its log started again, and its offsets with it. */
  forget(key: string): void {
    this.partitions.delete(key);
  }

  /** Keeps only the partitions of the current assignment. */
  keepOnly(keys: ReadonlySet<string>): void {
    for (const key of this.partitions.keys()) if (!keys.has(key)) this.partitions.delete(key);
  }

  private update(p: PartitionProgress, now: number): void {
    const fetchWaiting = p.logEnd - 1 > p.taken;
    if (!fetchWaiting) p.fetchWaitingSince = null;
    else p.fetchWaitingSince ??= now;
    const commitWaiting = p.taken > p.committed;
    if (!commitWaiting) p.commitWaitingSince = null;
    else p.commitWaitingSince ??= now;
  }

  snapshot(now: number): ArchiveProgressSnapshot {
    const lag: Record<string, number> = {};
    const stalled: Record<string, number> = {};
    const { stallAfterMs, commitWithinMs } = this.options;
    for (const [key, p] of this.partitions) {
      lag[key] = Math.max(0, Math.max(p.logEnd - 1, p.taken) - p.committed);
      let still = 0;
      if (p.fetchWaitingSince !== null) {
        const since = now - Math.max(p.fetchWaitingSince, p.takenAt);
        if (since >= stallAfterMs) still = since;
      }
      if (p.commitWaitingSince !== null) {
        const since = now - Math.max(p.commitWaitingSince, p.committedAt);
        if (since >= stallAfterMs + commitWithinMs) still = Math.max(still, since);
      }
      if (still > 0) stalled[key] = still;
    }
    return { lag, stalled };
  }
}
