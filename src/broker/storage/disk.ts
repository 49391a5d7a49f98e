/**
 * Data-directory persistence.
 *
 *   DIR/meta.json                                  cluster id, layout version
 *   DIR/topics/<topic>/topic.json                  partitions and configs
 *   DIR/topics/<topic>/<p>/<base offset>.log       a segment: record batches back to back, as stored
 *   DIR/topics/<topic>/<p>/<base offset>.index     its offset index: one 42-byte entry per batch
 *   DIR/topics/<topic>/<p>/log-start-offset        written when retention moves the start of the log
 *   DIR/groups/offsets.log                          committed group offsets (JSON lines, last one wins)
 *   DIR/txn/coordinator.log                         transaction state and the producer-id counter (JSON lines)
 *
 * Index entry: relative_offset:INT32 position:INT32 size:INT32 last_offset_delta:INT32 max_timestamp:INT64
 * producer_id:INT64 producer_epoch:INT16 base_sequence:INT32 attributes:INT16 control_type:INT8 reserved:INT8.
 * It lets recovery rebuild the in-memory batch list, the idempotent-producer state, open transactions and
 * the aborted-transactions index without reading the segments. The last segment is always re-scanned with
 * CRC checks: a torn or corrupt tail is truncated (never served) and its index rewritten.
 *
 * Durability: every append is written (write(2)) before the Produce response, so an acknowledged batch
 * survives a crash of the process (kill -9). With `fsync: 'always'` each append is also fdatasync'ed
 * before the response, which makes it survive a power loss or kernel crash.
 */
import { randomBytes } from 'node:crypto';
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
import { CroupierError } from '../../errors/index.ts';
import type { Broker } from '../broker.ts';
import type { CommittedOffset } from '../group/coordinator.ts';
import type { LogEntry, Partition, PartitionStore, RecoveredBatchInfo } from '../log/partition.ts';
import type { Topic } from '../log/topics.ts';
import { crc32c } from '../protocol/crc32c.ts';
import { Decoder } from '../protocol/decoder.ts';
import { Attr, BATCH_HEADER_SIZE, readBatchHeader } from '../protocol/record-batch.ts';
import type { TxnSnapshot } from '../txn/coordinator.ts';
import type { BrokerStorage } from './storage.ts';

export interface DiskStorageOptions {
  fsync: 'never' | 'always';
  logger: Logger;
}

const INDEX_ENTRY = 42;
const TWO_32 = 4294967296;

function segmentName(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0');
}

function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * TWO_32, at + 4);
}

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}

/** Control type of a control batch (-1 for data batches). */
function controlTypeOf(batch: Buffer, attributes: number): number {
  if ((attributes & Attr.CONTROL) === 0) return -1;
  try {
    const d = new Decoder(batch, BATCH_HEADER_SIZE);
    d.varint(); // record length
    d.int8(); // attributes
    d.varlong(); // timestamp delta
    d.varint(); // offset delta
    const keyLength = d.varint();
    if (keyLength < 4) return -1;
    d.int16(); // version
    return d.int16();
  } catch {
    return -1;
  }
}

interface IndexedBatch {
  entry: LogEntry;
  info: RecoveredBatchInfo;
}

function encodeIndexEntry(segmentBase: number, entry: LogEntry, batch: Buffer): Buffer {
  const h = readBatchHeader(batch);
  const out = Buffer.alloc(INDEX_ENTRY);
  out.writeInt32BE(entry.baseOffset - segmentBase, 0);
  out.writeInt32BE(entry.position, 4);
  out.writeInt32BE(entry.size, 8);
  out.writeInt32BE(entry.lastOffset - entry.baseOffset, 12);
  writeInt64(out, 16, entry.maxTimestamp);
  writeInt64(out, 24, h.producerId);
  out.writeInt16BE(h.producerEpoch, 32);
  out.writeInt32BE(h.baseSequence, 34);
  out.writeInt16BE(h.attributes, 38);
  out.writeInt8(controlTypeOf(batch, h.attributes), 40);
  return out;
}

function decodeIndexEntry(buf: Buffer, at: number, segmentBase: number): IndexedBatch {
  const baseOffset = segmentBase + buf.readInt32BE(at);
  const maxTimestamp = readInt64(buf, at + 16);
  return {
    entry: {
      baseOffset,
      lastOffset: baseOffset + buf.readInt32BE(at + 12),
      size: buf.readInt32BE(at + 8),
      maxTimestamp,
      appendTime: maxTimestamp,
      buf: null,
      segment: segmentBase,
      position: buf.readInt32BE(at + 4),
    },
    info: {
      producerId: readInt64(buf, at + 24),
      producerEpoch: buf.readInt16BE(at + 32),
      baseSequence: buf.readInt32BE(at + 34),
      attributes: buf.readInt16BE(at + 38),
      controlType: buf.readInt8(at + 40),
    },
  };
}

class Segment {
  readonly baseOffset: number;
  readonly logPath: string;
  readonly indexPath: string;
  logFd: number;
  indexFd: number;
  size: number;

  constructor(dir: string, baseOffset: number) {
    this.baseOffset = baseOffset;
    this.logPath = join(dir, `${segmentName(baseOffset)}.log`);
    this.indexPath = join(dir, `${segmentName(baseOffset)}.index`);
    this.logFd = openSync(this.logPath, 'a+');
    this.indexFd = openSync(this.indexPath, 'a+');
    this.size = fstatSync(this.logFd).size;
  }

  close(): void {
    closeSync(this.logFd);
    closeSync(this.indexFd);
  }
}

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
      const b = decodeIndexEntry(index, at, seg.baseOffset);
      if (b.entry.position !== position || b.entry.size < BATCH_HEADER_SIZE) return null;
      position += b.entry.size;
      out.push(b);
    }
    return position === seg.size ? out : null;
  }

  /** Reads a segment, checking every batch; truncates a torn or corrupt tail and rewrites the index. */
  private scan(seg: Segment, topic: string, partition: number): IndexedBatch[] {
    const log = readFileSync(seg.logPath);
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
      const baseOffset = readInt64(batch, 0);
      const entry: LogEntry = {
        baseOffset,
        lastOffset: baseOffset + h.lastOffsetDelta,
        size,
        maxTimestamp: h.maxTimestamp,
        appendTime: h.maxTimestamp,
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
    ftruncateSync(seg.indexFd, 0);
    if (index.length > 0) writeSync(seg.indexFd, Buffer.concat(index));
    return out;
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
    writeSync(seg.logFd, batch, 0, batch.length);
    seg.size += batch.length;
    writeSync(seg.indexFd, encodeIndexEntry(seg.baseOffset, entry, batch));
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

/** Appends JSON lines; recovery reads until the first unparsable (torn) line. */
class JsonLog {
  private readonly path: string;
  private fd: number;
  private readonly fsync: boolean;

  constructor(path: string, fsync: boolean) {
    this.path = path;
    this.fsync = fsync;
    this.fd = openSync(path, 'a');
  }

  static read(path: string): unknown[] {
    if (!existsSync(path)) return [];
    const out: unknown[] = [];
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        break;
      }
    }
    return out;
  }

  append(value: unknown): void {
    writeSync(this.fd, `${JSON.stringify(value)}\n`);
    if (this.fsync) fdatasyncSync(this.fd);
  }

  /** Replaces the file with `values` (atomic rename). */
  rewrite(values: unknown[]): void {
    closeSync(this.fd);
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, values.map((v) => `${JSON.stringify(v)}\n`).join(''));
    const fd = openSync(tmp, 'r');
    fdatasyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, 'a');
  }

  close(): void {
    closeSync(this.fd);
  }
}

interface OffsetLine {
  g: string;
  t: string;
  p: number;
  o?: number;
  m?: string | null;
  ts?: number;
  d?: 1;
}

type CoordinatorLine = { type: 'txn'; txn: TxnSnapshot } | { type: 'pid'; next: number };

export class DiskStorage implements BrokerStorage {
  private readonly dir: string;
  private readonly options: DiskStorageOptions;
  private readonly meta: { clusterId: string; version: number };
  private readonly offsets: JsonLog;
  private readonly coordinator: JsonLog;
  private segmentBytes = 64 * 1024 * 1024;

  constructor(dir: string, options: DiskStorageOptions) {
    this.dir = dir;
    this.options = options;
    try {
      mkdirSync(join(dir, 'topics'), { recursive: true });
      mkdirSync(join(dir, 'groups'), { recursive: true });
      mkdirSync(join(dir, 'txn'), { recursive: true });
      const metaPath = join(dir, 'meta.json');
      if (existsSync(metaPath)) {
        this.meta = JSON.parse(readFileSync(metaPath, 'utf8'));
      } else {
        this.meta = { clusterId: randomBytes(16).toString('base64url').slice(0, 22), version: 1 };
        writeFileSync(metaPath, `${JSON.stringify(this.meta)}\n`);
      }
      this.offsets = new JsonLog(join(dir, 'groups', 'offsets.log'), options.fsync === 'always');
      this.coordinator = new JsonLog(join(dir, 'txn', 'coordinator.log'), options.fsync === 'always');
    } catch (error) {
      throw new CroupierError(
        'CROUPIER_ERR_BROKER_DATA_DIR',
        `cannot use ${dir} as the broker's data directory: ${(error as Error).message}`,
        { dir },
        { cause: error },
      );
    }
  }

  clusterId(): string {
    return this.meta.clusterId;
  }

  private topicDir(name: string): string {
    return join(this.dir, 'topics', name);
  }

  recover(broker: Broker): void {
    this.segmentBytes = broker.config.topicDefaults.segmentBytes;
    const started = Date.now();
    let topics = 0;
    for (const name of readdirSync(join(this.dir, 'topics'))) {
      const file = join(this.topicDir(name), 'topic.json');
      if (!existsSync(file)) continue;
      const saved = JSON.parse(readFileSync(file, 'utf8')) as {
        name: string;
        partitions: number;
        configs: [string, string][];
      };
      broker.restoreTopic(saved.name, saved.partitions, new Map(saved.configs));
      topics++;
    }

    // Group offsets: the last line per (group, topic, partition) wins; the file is compacted.
    const latest = new Map<string, OffsetLine>();
    for (const line of JsonLog.read(join(this.dir, 'groups', 'offsets.log')) as OffsetLine[]) {
      latest.set(JSON.stringify([line.g, line.t, line.p]), line);
    }
    const kept: OffsetLine[] = [];
    for (const line of latest.values()) {
      if (line.d || !broker.topics.has(line.t)) continue;
      kept.push(line);
      broker.groups.restoreOffset(line.g, line.t, line.p, {
        offset: line.o!,
        metadata: line.m ?? '',
        commitTimestamp: line.ts ?? 0,
      });
    }
    this.offsets.rewrite(kept);

    // Transaction coordinator: last snapshot per transactional id, and the producer-id counter.
    const txns = new Map<string, TxnSnapshot>();
    let nextPid = 0;
    for (const line of JsonLog.read(join(this.dir, 'txn', 'coordinator.log')) as CoordinatorLine[]) {
      if (line.type === 'txn') txns.set(line.txn.transactionalId, line.txn);
      else if (line.type === 'pid') nextPid = Math.max(nextPid, line.next);
    }
    broker.txns.setNextProducerId(nextPid);
    for (const t of txns.values()) broker.txns.restore(t);
    this.coordinator.rewrite([
      { type: 'pid', next: nextPid },
      ...[...txns.values()].map((txn) => ({ type: 'txn', txn })),
    ]);
    broker.txns.recoverPrepared();
    this.options.logger.info(
      {
        dir: this.dir,
        topics,
        groupOffsets: kept.length,
        transactionalIds: txns.size,
        ms: Date.now() - started,
      },
      'broker state recovered',
    );
  }

  createTopic(topic: Topic): void {
    const dir = this.topicDir(topic.name);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, 'topic.json.tmp');
    writeFileSync(
      tmp,
      `${JSON.stringify({ name: topic.name, partitions: topic.partitions.length, configs: [...topic.configs] })}\n`,
    );
    renameSync(tmp, join(dir, 'topic.json'));
  }

  deleteTopic(name: string): void {
    rmSync(this.topicDir(name), { recursive: true, force: true });
  }

  openPartition(topic: Topic, partition: Partition): PartitionStore {
    const store = new DiskPartitionStore(
      join(this.topicDir(topic.name), String(partition.index)),
      topic.segmentBytes || this.segmentBytes,
      this.options.fsync === 'always',
      this.options.logger,
    );
    store.recover(partition);
    return store;
  }

  saveOffset(groupId: string, topic: string, partition: number, value: CommittedOffset | null): void {
    if (value) {
      this.offsets.append({
        g: groupId,
        t: topic,
        p: partition,
        o: value.offset,
        m: value.metadata,
        ts: value.commitTimestamp,
      });
    } else {
      this.offsets.append({ g: groupId, t: topic, p: partition, d: 1 });
    }
  }

  saveTxn(snapshot: TxnSnapshot): void {
    this.coordinator.append({ type: 'txn', txn: snapshot });
  }

  saveNextProducerId(next: number): void {
    this.coordinator.append({ type: 'pid', next });
  }

  close(): void {
    this.offsets.close();
    this.coordinator.close();
  }
}
