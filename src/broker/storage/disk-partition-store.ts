/**
 * A partition's log in the data directory: its segments (segment.ts) under DIR/topics/<topic>/<p>/, and
 * `log-start-offset`, written when retention moves the start of the log. Recovery trusts a closed segment's
 * index when it covers the log exactly; the last segment is always re-scanned with CRC checks: a torn or
 * corrupt tail is truncated (never served) and its index rewritten. A recovered batch keeps the append time its
 * index entry holds, so retention by age deletes it when it would have without the restart; a batch the index
 * does not describe (a torn index tail, an index of the older layout) takes the segment file's modification
 * time, the latest it can have been appended at.
 *
 * Durability: every append is written (write(2)) before the Produce response, so an acknowledged batch
 * survives a crash of the process (kill -9). With `fsync: 'always'` each append is also fdatasync'ed
 * before the response, which makes it survive a power loss or kernel crash.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { crc32c } from '../../compression/crc32c.ts';
import type { LogEntry, Partition, PartitionStore } from '../log/partition.ts';
import { BATCH_HEADER_SIZE, readBaseOffset, readBatchHeader } from '../protocol/record-batch.ts';
import {
  controlTypeOf,
  decodeIndexEntry,
  encodeIndexEntry,
  INDEX_ENTRY,
  type IndexedBatch,
  isCurrentIndexEntry,
} from './index-entry.ts';
import { Segment } from './segment.ts';

export class DiskPartitionStore implements PartitionStore {
  private readonly dir: string;
  private readonly segments: Segment[] = [];
  private readonly byBase = new Map<number, Segment>();
  private readonly segmentBytes: number;
  private readonly fsync: boolean;
  private readonly logger: Logger;
  private closed = false;

  constructor(dir: string, segmentBytes: number, fsync: boolean, logger: Logger) {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    this.fsync = fsync;
    this.logger = logger;
    mkdirSync(dir, { recursive: true });
  }

  /** Opens the segments and replays them into the partition. */
  recover(partition: Partition): void {
    // An index written aside by a start that stopped before renaming it (replaceIndex): the old one still stands.
    for (const f of readdirSync(this.dir)) if (f.endsWith('.index.tmp')) unlinkSync(join(this.dir, f));
    const bases = readdirSync(this.dir)
      .filter((f) => /^\d{20}\.log$/.test(f))
      .map((f) => Number(f.slice(0, 20)))
      .sort((a, b) => a - b);
    for (const base of bases) this.addSegment(new Segment(this.dir, base));
    this.segments.forEach((seg, i) => {
      const last = i === this.segments.length - 1;
      const batches = (!last && this.readIndex(seg)) || this.scan(seg, partition.topic, partition.index);
      for (const b of batches) partition.restoreEntry(b.entry, b.info);
    });
    const startFile = join(this.dir, 'log-start-offset');
    if (existsSync(startFile)) {
      const start = Number(readFileSync(startFile, 'utf8').trim());
      if (Number.isFinite(start)) partition.restoreLogStart(start);
    }
  }

  private addSegment(seg: Segment): void {
    this.segments.push(seg);
    this.byBase.set(seg.baseOffset, seg);
  }

  /** Trusts a closed segment's index when it covers the log file exactly. */
  private readIndex(seg: Segment): IndexedBatch[] | null {
    const index = readFileSync(seg.indexPath);
    if (index.length % INDEX_ENTRY !== 0) return null;
    const out: IndexedBatch[] = [];
    let position = 0;
    for (let at = 0; at < index.length; at += INDEX_ENTRY) {
      if (!isCurrentIndexEntry(index, at)) return null;
      const b = decodeIndexEntry(index, at, seg.baseOffset);
      if (b.entry.position !== position || b.entry.size < BATCH_HEADER_SIZE) return null;
      position += b.entry.size;
      out.push(b);
    }
    return position === seg.size ? out : null;
  }

  /** Append times the segment's index holds, by batch position (none when the index is not of this layout). */
  private indexedAppendTimes(seg: Segment): Map<number, number> {
    const times = new Map<number, number>();
    const index = readFileSync(seg.indexPath);
    let position = 0;
    for (let at = 0; at + INDEX_ENTRY <= index.length; at += INDEX_ENTRY) {
      if (!isCurrentIndexEntry(index, at)) break;
      const b = decodeIndexEntry(index, at, seg.baseOffset);
      if (b.entry.position !== position || b.entry.size < BATCH_HEADER_SIZE) break;
      times.set(position, b.entry.appendTime);
      position += b.entry.size;
    }
    return times;
  }

  /** Reads a segment, checking every batch; truncates a torn or corrupt tail and rewrites the index. */
  private scan(seg: Segment, topic: string, partition: number): IndexedBatch[] {
    const log = readFileSync(seg.logPath);
    const appendTimes = this.indexedAppendTimes(seg);
    const modifiedAt = Math.floor(fstatSync(seg.logFd).mtimeMs);
    const out: IndexedBatch[] = [];
    const index: Buffer[] = [];
    let at = 0;
    let problem = '';
    while (at < log.length) {
      if (log.length - at < BATCH_HEADER_SIZE) {
        problem = 'partial batch header';
        break;
      }
      const size = log.readInt32BE(at + 8) + 12;
      if (size < BATCH_HEADER_SIZE || at + size > log.length) {
        problem = 'partial batch';
        break;
      }
      const batch = log.subarray(at, at + size);
      if (batch.readInt8(16) !== 2 || crc32c(batch, 21, size) !== batch.readUInt32BE(17)) {
        problem = 'corrupt batch';
        break;
      }
      const h = readBatchHeader(batch);
      const baseOffset = readBaseOffset(batch);
      const entry: LogEntry = {
        baseOffset,
        lastOffset: baseOffset + h.lastOffsetDelta,
        size,
        maxTimestamp: h.maxTimestamp,
        appendTime: appendTimes.get(at) ?? modifiedAt,
        buf: null,
        segment: seg.baseOffset,
        position: at,
      };
      out.push({
        entry,
        info: {
          producerId: h.producerId,
          producerEpoch: h.producerEpoch,
          baseSequence: h.baseSequence,
          attributes: h.attributes,
          controlType: controlTypeOf(batch, h.attributes),
        },
      });
      index.push(encodeIndexEntry(seg.baseOffset, entry, batch));
      at += size;
    }
    if (at < log.length) {
      this.logger.warn(
        { topic, partition, segment: seg.baseOffset, validBytes: at, droppedBytes: log.length - at, problem },
        'truncating the torn tail of a log segment',
      );
      ftruncateSync(seg.logFd, at);
      seg.size = at;
    }
    this.replaceIndex(seg, Buffer.concat(index));
    return out;
  }

  /**
   * Makes the segment's index `bytes`: left alone when it holds them already (every start scans the last segment),
   * else written aside, synced and renamed into place, so a crash or a full disk leaves the old index or the new one
   * whole, never an index truncated before its rewrite (the append times retention reads after a restart).
   */
  private replaceIndex(seg: Segment, bytes: Buffer): void {
    if (readFileSync(seg.indexPath).equals(bytes)) return;
    const aside = `${seg.indexPath}.tmp`;
    const fd = openSync(aside, 'w');
    try {
      writeWhole(fd, bytes);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(aside, seg.indexPath);
    seg.reopenIndex();
  }

  append(entry: LogEntry, batch: Buffer): void {
    let seg = this.segments[this.segments.length - 1];
    if (!seg || (seg.size > 0 && seg.size + batch.length > this.segmentBytes)) {
      if (seg && this.fsync) {
        fdatasyncSync(seg.logFd);
        fdatasyncSync(seg.indexFd);
      }
      seg = new Segment(this.dir, entry.baseOffset);
      this.addSegment(seg);
    }
    entry.segment = seg.baseOffset;
    entry.position = seg.size;
    try {
      writeWhole(seg.logFd, batch);
      writeWhole(seg.indexFd, encodeIndexEntry(seg.baseOffset, entry, batch));
    } catch (error) {
      // A full disk (ENOSPC, EFBIG) may have taken part of the batch: cut both files back to where they were, so
      // the batch is not in the log at all (the produce is refused and retried) and later batches follow
      // the last whole one. Left there, the torn bytes would be truncated at the next start with every batch
      // appended after them once space came back.
      ftruncateSync(seg.logFd, seg.size);
      const indexSize = fstatSync(seg.indexFd).size;
      ftruncateSync(seg.indexFd, indexSize - (indexSize % INDEX_ENTRY));
      throw error;
    }
    seg.size += batch.length;
    if (this.fsync) {
      fdatasyncSync(seg.logFd);
      fdatasyncSync(seg.indexFd);
    }
  }

  read(entry: LogEntry): Buffer {
    const seg = this.byBase.get(entry.segment);
    if (!seg) throw new Error(`segment ${entry.segment} of ${this.dir} is gone`);
    const buf = Buffer.allocUnsafe(entry.size);
    let done = 0;
    while (done < entry.size) {
      const n = readSync(seg.logFd, buf, done, entry.size - done, entry.position + done);
      if (n <= 0) throw new Error(`short read in ${seg.logPath} at ${entry.position}`);
      done += n;
    }
    return buf;
  }

  loadEntries(segment: number, firstOffset: number, lastOffset: number): LogEntry[] {
    const seg = this.byBase.get(segment);
    if (!seg) throw new Error(`segment ${segment} of ${this.dir} is gone`);
    const count = Math.floor(fstatSync(seg.indexFd).size / INDEX_ENTRY);
    const head = Buffer.alloc(16);
    /** relative_offset and last_offset_delta of index entry i. */
    const offsetsAt = (i: number) => {
      readSync(seg.indexFd, head, 0, 16, i * INDEX_ENTRY);
      const base = seg.baseOffset + head.readInt32BE(0);
      return { base, last: base + head.readInt32BE(12) };
    };
    /** The first index entry in [lo, count) that is not `below` (the entries are in offset order). */
    const search = (below: (o: { base: number; last: number }) => boolean) => {
      let lo = 0;
      let hi = count;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (below(offsetsAt(mid))) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const from = search((o) => o.last < firstOffset);
    const to = search((o) => o.base <= lastOffset);
    const index = Buffer.alloc(Math.max(0, to - from) * INDEX_ENTRY);
    if (index.length > 0) readSync(seg.indexFd, index, 0, index.length, from * INDEX_ENTRY);
    const entries: LogEntry[] = [];
    for (let at = 0; at < index.length; at += INDEX_ENTRY) {
      entries.push(decodeIndexEntry(index, at, seg.baseOffset).entry);
    }
    return entries;
  }

  deleteBefore(offset: number): void {
    const tmp = join(this.dir, 'log-start-offset.tmp');
    writeFileSync(tmp, `${offset}\n`);
    renameSync(tmp, join(this.dir, 'log-start-offset'));
    // A segment can go when the next one starts at or below the new log start.
    while (this.segments.length > 1 && this.segments[1]!.baseOffset <= offset) {
      const seg = this.segments.shift()!;
      this.byBase.delete(seg.baseOffset);
      seg.close();
      unlinkSync(seg.logPath);
      unlinkSync(seg.indexPath);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const seg of this.segments) {
      try {
        fdatasyncSync(seg.logFd);
        fdatasyncSync(seg.indexFd);
      } catch {
        // best effort
      }
      seg.close();
    }
  }

  destroy(): void {
    this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Writes all of `buf` at the end of `fd` (a short write is followed by another; one that fails throws). */
function writeWhole(fd: number, buf: Buffer): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done);
}
