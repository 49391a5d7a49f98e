/**
 * One topic-partition: its log of record batches (offsets assigned at append), with the idempotent-producer
 * state, open transactions (the last stable offset) and the aborted-transactions index in
 * partition-transactions.ts.
 *
 * Single node: the high watermark is the log end offset (an append is "replicated" once it is in the log).
 * Storage is in memory, or in a `SegmentStore` (segment files + offset index) with a bounded cache of the
 * most recent batches in memory; there the entries of batches out of the cache leave memory too, in runs
 * (closed-segments.ts), so memory is bounded by the cache, not by how much of the log retention keeps.
 */
import { ErrorCode } from '../protocol/error-codes.ts';
import {
  type BatchHeader,
  buildControlBatch,
  firstOffsetAtOrAfter,
  readBatchHeader,
  stampBatch,
} from '../protocol/record-batch.ts';
import { ClosedSegments, COLD_RUN_ENTRIES, lowerBound } from './closed-segments.ts';
import {
  type AbortedTxn,
  PartitionTransactions,
  type RecoveredBatchInfo,
  type TxnVerifier,
} from './partition-transactions.ts';

export interface LogEntry {
  baseOffset: number;
  lastOffset: number;
  size: number;
  maxTimestamp: number;
  /** Append time on this broker (retention by age). */
  appendTime: number;
  /** The batch bytes, when held in memory. */
  buf: Buffer | null;
  /** Where the batch lives on disk (SegmentStore's business). */
  segment: number;
  position: number;
}

/** Persistence behind a partition; absent in memory mode. */
export interface PartitionStore {
  append(entry: LogEntry, batch: Buffer): void;
  read(entry: LogEntry): Buffer;
  /** The entries of the batches `firstOffset` to `lastOffset` of a segment, from its index. */
  loadEntries(segment: number, firstOffset: number, lastOffset: number): LogEntry[];
  /** The log start offset moved to `offset`: persist it and drop whole segments below it. */
  deleteBefore(offset: number): void;
  close(): void;
  destroy(): void;
}

export interface RetentionPolicy {
  /** -1: unlimited. */
  retentionBytes: number;
  /** -1: unlimited. */
  retentionMs: number;
}

export interface AppendResult {
  errorCode: number;
  baseOffset: number;
  message?: string;
}

export interface ReadResult {
  batches: Buffer[];
  bytes: number;
}

export class Partition {
  readonly topic: string;
  readonly index: number;
  /** The batches held in memory, oldest first: all of them in memory mode, the cached ones (and a few more) on disk. */
  entries: LogEntry[] = [];
  /** entries[0..head) are deleted (retention) or moved to `closed`; compacted lazily. */
  private head = 0;
  /** On disk: the runs of cold batches before `entries`, whose entries are read from their index when needed. */
  private closed: ClosedSegments<LogEntry> | null = null;
  nextOffset = 0;
  logStartOffset = 0;
  /** Bytes held (all entries, whether cached or on disk). */
  sizeBytes = 0;
  /** Idempotent producers, open transactions and aborted ones. */
  readonly transactions = new PartitionTransactions();
  store: PartitionStore | null = null;
  /** Most recent batches kept in memory when a store is attached. */
  cacheBytesLimit = 16 * 1024 * 1024;
  private cachedBytes = 0;
  private cacheFrom = 0;
  /** Called after every append (fetch long-polls wait on it). */
  onAppend: (() => void) | null = null;

  constructor(topic: string, index: number) {
    this.topic = topic;
    this.index = index;
  }

  get highWatermark(): number {
    return this.nextOffset;
  }

  lastStableOffset(): number {
    return this.transactions.lastStableOffset(this.nextOffset);
  }

  get producers() {
    return this.transactions.producers;
  }

  get ongoing(): ReadonlyMap<number, number> {
    return this.transactions.ongoing;
  }

  get aborted(): readonly AbortedTxn[] {
    return this.transactions.aborted;
  }

  /** Appends a validated batch from a producer (handles idempotence and transactions). */
  appendBatch(batch: Buffer, header: BatchHeader, now: number, verifyTxn?: TxnVerifier): AppendResult {
    const pid = header.producerId;
    let lastSeq = -1;
    if (pid >= 0) {
      const check = this.transactions.check(header, verifyTxn);
      if (check.kind === 'duplicate') return { errorCode: ErrorCode.NONE, baseOffset: check.baseOffset };
      if (check.kind === 'refused')
        return { errorCode: check.errorCode, baseOffset: -1, message: check.message };
      lastSeq = check.lastSeq;
    }
    const baseOffset = this.appendRaw(batch, header, now);
    if (pid >= 0) {
      this.transactions.appended(pid, header.producerEpoch, header.attributes, {
        firstSeq: header.baseSequence,
        lastSeq,
        baseOffset,
        lastOffset: baseOffset + header.lastOffsetDelta,
      });
    }
    this.onAppend?.();
    return { errorCode: ErrorCode.NONE, baseOffset };
  }

  /** Writes a commit/abort marker for `producerId` and closes its transaction here. */
  writeMarker(producerId: number, epoch: number, type: number, now: number): number {
    const batch = buildControlBatch({
      baseOffset: 0,
      producerId,
      producerEpoch: epoch,
      type,
      timestamp: now,
    });
    const header = readBatchHeader(batch);
    const offset = this.appendRaw(batch, header, now);
    this.transactions.marked(producerId, epoch, type, offset);
    this.onAppend?.();
    return offset;
  }

  /** Assigns offsets to the batch and stores it. */
  private appendRaw(batch: Buffer, header: BatchHeader, now: number): number {
    const baseOffset = this.nextOffset;
    stampBatch(batch, baseOffset);
    const entry: LogEntry = {
      baseOffset,
      lastOffset: baseOffset + header.lastOffsetDelta,
      size: batch.length,
      maxTimestamp: header.maxTimestamp,
      appendTime: now,
      buf: batch,
      segment: 0,
      position: 0,
    };
    if (this.store) {
      this.store.append(entry, batch);
      this.cachedBytes += batch.length;
      this.evictCache();
    }
    this.entries.push(entry);
    this.sizeBytes += batch.length;
    this.nextOffset = entry.lastOffset + 1;
    return baseOffset;
  }

  /**
   * Adds an entry recovered from disk and replays its effect on producer state, open transactions and the
   * aborted-transactions index (the same bookkeeping as the append paths).
   */
  restoreEntry(entry: LogEntry, batch: RecoveredBatchInfo): void {
    if (this.entries.length === this.head && this.sizeBytes === 0 && entry.baseOffset > this.nextOffset) {
      this.logStartOffset = entry.baseOffset;
    }
    this.entries.push(entry);
    this.sizeBytes += entry.size;
    this.nextOffset = entry.lastOffset + 1;
    this.transactions.replay(batch, entry.baseOffset, entry.lastOffset);
  }

  /** After recovery: drops entries below a persisted log start offset. */
  restoreLogStart(offset: number): void {
    while (this.head < this.entries.length - 1 && this.entries[this.head]!.lastOffset < offset) {
      this.sizeBytes -= this.entries[this.head]!.size;
      this.head++;
    }
    if (this.head < this.entries.length) this.logStartOffset = this.entries[this.head]!.baseOffset;
    else this.logStartOffset = Math.max(this.logStartOffset, Math.min(offset, this.nextOffset));
    this.transactions.dropAbortedBefore(this.logStartOffset);
  }

  private evictCache(): void {
    while (this.cachedBytes > this.cacheBytesLimit && this.cacheFrom < this.entries.length) {
      const e = this.entries[this.cacheFrom++]!;
      if (e.buf) {
        this.cachedBytes -= e.size;
        e.buf = null;
      }
    }
    if (this.cacheFrom < this.head) this.cacheFrom = this.head;
    this.offloadColdEntries();
  }

  /** Batch entries held in memory (the rest of the log is indexed on disk). */
  get entriesInMemory(): number {
    return this.entries.length - this.head;
  }

  /**
   * Moves cold entries (their batches evicted from the cache) from `entries` to `closed`: a closed segment's as
   * one run, the active segment's in runs of at least COLD_RUN_ENTRIES. The cache evicts in order, so the cold
   * entries are a prefix of `entries`.
   */
  private offloadColdEntries(): void {
    const store = this.store;
    if (!store) return;
    const active = this.entries[this.entries.length - 1]?.segment;
    while (this.head < this.entries.length) {
      const segment = this.entries[this.head]!.segment;
      const end = lowerBound(this.entries, this.head, this.entries.length, (e) => e.segment <= segment);
      const cold = lowerBound(this.entries, this.head, end, (e) => e.buf === null);
      const whole = cold === end && segment !== active;
      if (cold === this.head || (!whole && cold - this.head < COLD_RUN_ENTRIES)) break;
      this.closed ??= new ClosedSegments((base, first, last) => store.loadEntries(base, first, last));
      this.closed.add(this.entries.slice(this.head, cold));
      this.head = cold;
      if (!whole) break;
    }
    if (this.cacheFrom < this.head) this.cacheFrom = this.head;
    this.compactEntries();
  }

  private compactEntries(): void {
    if (this.head > 1024 && this.head > this.entries.length / 2) {
      this.entries = this.entries.slice(this.head);
      this.cacheFrom = Math.max(0, this.cacheFrom - this.head);
      this.head = 0;
    }
  }

  private bufferOf(entry: LogEntry): Buffer {
    if (entry.buf) return entry.buf;
    if (!this.store) throw new Error('batch missing from memory without a store');
    return this.store.read(entry);
  }

  /** Index of the first live entry whose last offset is ≥ offset (entries.length if none). */
  private search(offset: number): number {
    return lowerBound(this.entries, this.head, this.entries.length, (e) => e.lastOffset < offset);
  }

  /**
   * Whole batches from `offset` up to (not including) `limitOffset`, at most `maxBytes` (but at least one
   * batch when `atLeastOne`).
   */
  read(offset: number, maxBytes: number, limitOffset: number, atLeastOne: boolean): ReadResult {
    const batches: Buffer[] = [];
    let bytes = 0;
    const take = (e: LogEntry): boolean => {
      if (e.baseOffset >= limitOffset) return false;
      if (bytes + e.size > maxBytes && !(atLeastOne && batches.length === 0)) return false;
      batches.push(this.bufferOf(e));
      bytes += e.size;
      return true;
    };
    if (this.closed) {
      for (let s = this.closed.indexOf(offset); s < this.closed.length; s++) {
        for (const e of this.closed.entries(this.closed.at(s)!, offset)) {
          if (!take(e)) return { batches, bytes };
        }
      }
    }
    for (let i = this.search(offset); i < this.entries.length; i++) {
      if (!take(this.entries[i]!)) break;
    }
    return { batches, bytes };
  }

  /** Aborted transactions overlapping [from, to], sorted by first offset. */
  abortedBetween(from: number, to: number): AbortedTxn[] {
    return this.transactions.abortedBetween(from, to);
  }

  /** ListOffsets by timestamp: the first offset whose record timestamp is ≥ `timestamp`, or -1. */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } {
    const find = (e: LogEntry) => {
      if (e.maxTimestamp < timestamp) return undefined;
      return firstOffsetAtOrAfter(this.bufferOf(e), e.baseOffset, timestamp);
    };
    for (let s = 0; this.closed && s < this.closed.length; s++) {
      const segment = this.closed.at(s)!;
      if (segment.maxTimestamp < timestamp) continue;
      for (const e of this.closed.entries(segment)) {
        const offset = find(e);
        if (offset !== undefined) return { offset, timestamp: e.maxTimestamp };
      }
    }
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      const offset = find(e);
      if (offset !== undefined) return { offset, timestamp: e.maxTimestamp };
    }
    return { offset: -1, timestamp: -1 };
  }

  /** Deletes whole batches from the front by size and age; never past the last stable offset. */
  applyRetention(policy: RetentionPolicy, now: number): void {
    this.offloadColdEntries();
    const stable = this.lastStableOffset();
    const expired = (e: LogEntry) => {
      if (e.lastOffset >= stable) return false;
      const tooBig = policy.retentionBytes >= 0 && this.sizeBytes > policy.retentionBytes;
      const tooOld =
        policy.retentionMs >= 0 && now - Math.max(e.appendTime, e.maxTimestamp) > policy.retentionMs;
      return tooBig || tooOld;
    };
    let deleted = false;
    // Closed segments first (the oldest batches), batch by batch as in memory.
    closed: while (this.closed && this.closed.length > 0) {
      const segment = this.closed.first!;
      for (const e of this.closed.entries(segment)) {
        if (!expired(e)) {
          segment.firstOffset = e.baseOffset;
          break closed;
        }
        this.sizeBytes -= e.size;
        deleted = true;
      }
      this.closed.dropFirst();
    }
    if (!this.closed?.length) {
      while (this.head < this.entries.length - 1) {
        const e = this.entries[this.head]!;
        if (!expired(e)) break;
        this.sizeBytes -= e.size;
        if (e.buf && this.store) this.cachedBytes -= e.size;
        e.buf = null;
        this.head++;
        deleted = true;
      }
    }
    if (!deleted) return;
    this.logStartOffset = this.closed?.first?.firstOffset ?? this.entries[this.head]!.baseOffset;
    this.transactions.dropAbortedBefore(this.logStartOffset);
    this.store?.deleteBefore(this.logStartOffset);
    if (this.cacheFrom < this.head) this.cacheFrom = this.head;
    this.compactEntries();
  }

  close(): void {
    this.store?.close();
  }
}
