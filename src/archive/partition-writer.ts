/**
 * One assigned partition of the archive: the file being built (one topic partition, one hour), its rotation,
 * and the commit of each finished file. Operations on a partition run one at a time (`run`), so a batch and
 * an idle rotation never interleave. A writer is fenced (`fence()`) when its partition is revoked: it stops
 * retrying, never renames anything into place again, and drops its open file.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log/logger.ts';
import { commitFile, type RetryOptions, retrying } from './commit.ts';
import type { FileBuilder } from './format/file-builder.ts';
import type { RecordRun } from './format/record-run.ts';
import type { ArchiveFileSystem } from './fs/archive-fs.ts';
import { type ArchiveFormat, extensionOf, hourDirOf, hourStartOf, padOffset } from './layout.ts';
import type { RecordFingerprint } from './log-identity.ts';
import type { MarkerClaimant } from './marker-claim.ts';
import type { ArchiveMetrics } from './metrics.ts';
import { isFull, isIdle, type OpenFileState, type RotationPolicy, rotationBefore } from './rotation.ts';
import type { RecoveredPartition } from './scan.ts';

export interface PartitionWriterOptions {
  topic: string;
  partition: number;
  recovered: RecoveredPartition;
  /** The Kafka cluster the partition's log is of (cluster-lease.ts), named in the markers; null when not known. */
  cluster(): string | null;
  /** The archive consumer whose claim each marker is replaced under (marker-claim.ts). */
  claimant: MarkerClaimant;
  fs: ArchiveFileSystem;
  format: ArchiveFormat;
  policy: RotationPolicy;
  newBuilder(stagingPath: string): FileBuilder;
  /** The writer schema text of a registry id (for the files' metadata). */
  schemaText(id: number): Promise<string>;
  retry: Omit<RetryOptions, 'live'>;
  logger: Logger;
  metrics: ArchiveMetrics;
  /** After each commit, with the partition's new committed end. */
  onCommitted(end: number): void;
}

interface OpenFile extends OpenFileState {
  builder: FileBuilder;
  start: number;
  end: number;
  /** The record at `end`. */
  last: RecordFingerprint | null;
  schemaIds: Set<number>;
}

export class PartitionWriter {
  readonly topic: string;
  readonly partition: number;
  /** The log epoch it writes (layout.ts). */
  readonly epoch: number;
  /** Last offset in a committed file of the epoch. */
  committedEnd: number;
  private committedFile: string | null;
  private committedLast: RecordFingerprint | null;
  private markerText: string | null;
  /** Last offset appended (committed or in the open file). */
  private appendedEnd: number;
  private open: OpenFile | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** Commits of closed files, in offset order, overlapping the appends of the next file. */
  private commits: Promise<void> = Promise.resolve();
  private pendingCommits = 0;
  private commitFailure: unknown = null;
  private fenced = false;
  private readonly o: PartitionWriterOptions;

  constructor(options: PartitionWriterOptions) {
    this.o = options;
    this.topic = options.topic;
    this.partition = options.partition;
    this.epoch = options.recovered.epoch;
    this.committedEnd = options.recovered.end;
    this.appendedEnd = options.recovered.end;
    this.committedFile = options.recovered.file;
    this.committedLast = options.recovered.last;
    this.markerText = options.recovered.markerText;
  }

  get live(): boolean {
    return !this.fenced;
  }

  /** Runs `step` after every earlier operation of this partition. */
  run<T>(step: () => Promise<T>): Promise<T> {
    const result = this.chain.then(step);
    this.chain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Appends records (offset order); records at or before what was appended are skipped (a re-fetch). */
  async append(records: RecordRun, heartbeat?: () => void): Promise<void> {
    this.throwCommitFailure();
    const n = records.length;
    let i = 0;
    while (i < n && records.offsetAt(i) <= this.appendedEnd) i++;
    while (i < n && this.live) {
      if (this.open && rotationBefore(this.o.policy, this.open, records.timestampAt(i)) !== null) {
        await this.commitOpen(heartbeat);
        continue;
      }
      const open = this.open ?? this.openFile(records.offsetAt(i), records.timestampAt(i));
      // The run of records that fit in the open file goes in as one append: up to the file's record limit, and
      // while each record belongs in its hour and interval (the count is bounded here, so no copy of `open`).
      const limit = Math.min(n, i + this.o.policy.flushRecords - open.records);
      let j = i + 1;
      while (j < limit && rotationBefore(this.o.policy, open, records.timestampAt(j)) === null) j++;
      // Before the append, which may hand the records' bytes to the builder's thread.
      open.last = records.fingerprintAt(j - 1);
      records.appendTo(open.builder, this.partition, i, j);
      let seen = -1;
      for (let k = i; k < j; k++) {
        const id = records.schemaIdAt(k);
        if (id !== seen && id >= 0) open.schemaIds.add(id);
        seen = id;
      }
      open.records += j - i;
      open.end = records.offsetAt(j - 1);
      open.lastAppendAt = Date.now();
      this.appendedEnd = open.end;
      i = j;
      if (isFull(this.o.policy, open)) await this.commitOpen(heartbeat);
    }
  }

  /** Commits the open file when the partition has been quiet for `idleRotateMs`. */
  async rotateIfIdle(now: number): Promise<void> {
    this.throwCommitFailure();
    if (this.open && this.live && isIdle(this.o.policy, this.open, now)) await this.commitOpen();
  }

  /** Stops the writer: no commit happens after this; the open file is dropped. Waits for the operation in flight. */
  async fence(): Promise<void> {
    this.fenced = true;
    await this.chain;
    await this.commits;
    await this.open?.builder.discard();
    this.open = null;
  }

  /** Commits the open file now and waits for every commit (a clean close: nothing waits in staging). */
  async flush(): Promise<void> {
    if (this.open && this.live) await this.commitOpen();
    await this.commits;
    this.throwCommitFailure();
  }

  private throwCommitFailure(): void {
    if (this.commitFailure !== null) throw this.commitFailure;
  }

  private openFile(offset: number, timestamp: number): OpenFile {
    const base = `${this.topic}+${this.partition}+${padOffset(offset)}.${randomUUID().slice(0, 8)}`;
    this.open = {
      builder: this.o.newBuilder(path.join(this.o.fs.stagingDir, `${base}.staged`)),
      start: offset,
      end: offset,
      last: null,
      records: 0,
      hourStart: hourStartOf(timestamp),
      firstTimestamp: timestamp,
      lastAppendAt: Date.now(),
      schemaIds: new Set(),
    };
    return this.open;
  }

  /**
   * Closes the open file and queues its commit behind the earlier ones, so the next file fills while this one
   * is written and renamed; waits only when two commits are already queued (backpressure).
   */
  private async commitOpen(heartbeat?: () => void): Promise<void> {
    const open = this.open;
    if (!open) return;
    this.open = null;
    this.pendingCommits++;
    this.commits = this.commits.then(async () => {
      try {
        if (this.commitFailure === null && this.live) await this.commitClosed(open, heartbeat);
        else await open.builder.discard();
      } catch (error) {
        this.commitFailure ??= error;
        await open.builder.discard().catch(() => undefined);
      } finally {
        this.pendingCommits--;
      }
    });
    if (this.pendingCommits > 2) await this.commits;
    this.throwCommitFailure();
  }

  private async commitClosed(open: OpenFile, heartbeat?: () => void): Promise<void> {
    const { topic, partition, epoch } = this;
    const file = { topic, partition, start: open.start, end: open.end, format: this.o.format, epoch };
    if (open.last === null) throw new Error(`the open file of ${topic}+${partition} has no last record`);
    const last = open.last;
    const localPath = path.join(
      this.o.fs.stagingDir,
      `${topic}+${partition}+${padOffset(open.start)}.${randomUUID().slice(0, 8)}${extensionOf(this.o.format)}`,
    );
    const retry: RetryOptions = { ...this.o.retry, live: () => this.live, onRetry: heartbeat };
    const writerSchemas: Record<string, string> = {};
    for (const id of open.schemaIds) {
      writerSchemas[String(id)] = await retrying(
        `fetch writer schema ${id}`,
        () => this.o.schemaText(id),
        retry,
        this.o.logger,
        this.o.metrics,
      );
    }
    const bytes = await open.builder.finish(
      {
        topic,
        partition,
        startOffset: open.start,
        endOffset: open.end,
        records: open.records,
        writerSchemas,
      },
      localPath,
    );
    const committed = await commitFile({
      fs: this.o.fs,
      file,
      dir: hourDirOf(topic, open.hourStart),
      localPath,
      bytes,
      markerText: this.markerText,
      committedEnd: this.committedEnd,
      committedFile: this.committedFile,
      committedLast: this.committedLast,
      last,
      cluster: this.o.cluster(),
      claimant: this.o.claimant,
      retry,
      logger: this.o.logger,
      metrics: this.o.metrics,
    });
    await rm(localPath, { force: true });
    this.markerText = committed.markerText;
    this.committedEnd = open.end;
    this.committedFile = committed.path;
    this.committedLast = last;
    this.o.logger.debug({ path: committed.path, records: open.records, bytes }, 'file committed');
    this.o.onCommitted(open.end);
  }
}
