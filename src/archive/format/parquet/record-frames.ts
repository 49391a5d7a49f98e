/**
 * Archive records packed into one transferable buffer, so a batch crosses to the Parquet builder thread as one
 * copy of its bytes (no structured clone of objects). Records that are not Avro bodies to transcode
 * (`kind: 'value'`) cannot cross: the threaded builder reads Avro bodies only.
 *
 * Per record, little-endian:
 *   u8 kind (0 tombstone, 1 avro, 2 undecodable) · f64 offset · f64 timestamp
 *   i32 key length (-1: null) · key · i32 value length (-1: null) · value
 *   avro:        u16 record type (index in `recordTypes`) · i32 schema id · i32 start
 *                · i32 body length (-1: the body is the value) · body
 *   undecodable: i32 error length · error (UTF-8)
 */
import { type RecordFingerprint, recordFingerprint } from '../../log-identity.ts';
import type { FileBuilder } from '../file-builder.ts';
import type { RecordRun } from '../record-run.ts';
import type { ArchiveRecord } from '../rows.ts';

const KIND = { tombstone: 0, avro: 1, undecodable: 2 } as const;

function sizeOf(r: ArchiveRecord): number {
  const d = r.decoded;
  let n = 1 + 8 + 8 + 4 + (r.key?.length ?? 0) + 4 + (r.value?.length ?? 0);
  if (d.kind === 'avro') n += 2 + 4 + 4 + 4 + (d.body === r.value ? 0 : d.body.length);
  else if (d.kind === 'undecodable') n += 4 + Buffer.byteLength(d.error, 'utf8');
  else if (d.kind === 'value') throw new Error('decoded fields cannot be sent to the Parquet builder thread');
  return n;
}

/** Packs records; `recordTypes` is the table's list (a record's type is sent as its index). */
export function packRecords(records: readonly ArchiveRecord[], recordTypes: readonly string[]): ArrayBuffer {
  let size = 0;
  for (const r of records) size += sizeOf(r);
  const ab = new ArrayBuffer(size);
  const out = Buffer.from(ab);
  let p = 0;
  for (const r of records) {
    const d = r.decoded;
    p = out.writeUInt8(KIND[d.kind as keyof typeof KIND], p);
    p = out.writeDoubleLE(r.offset, p);
    p = out.writeDoubleLE(r.timestamp, p);
    p = putBytes(out, p, r.key);
    p = putBytes(out, p, r.value);
    if (d.kind === 'avro') {
      const type = recordTypes.indexOf(d.recordType);
      if (type < 0) throw new Error(`record type ${d.recordType} is not one of the table's`);
      p = out.writeUInt16LE(type, p);
      p = out.writeInt32LE(d.schemaId, p);
      p = out.writeInt32LE(d.start, p);
      if (d.body === r.value) p = out.writeInt32LE(-1, p);
      else p = putBytes(out, p, d.body);
    } else if (d.kind === 'undecodable') {
      const len = Buffer.byteLength(d.error, 'utf8');
      p = out.writeInt32LE(len, p);
      p += out.write(d.error, p, 'utf8');
    }
  }
  return ab;
}

/** A fetched message as kafkajs gives it. */
export interface FetchedMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** Where a value's contract body is, as `packMessages` needs it: the value itself, after the wire header. */
export interface InPlaceBody {
  /** The record type's index in the table's `recordTypes`. */
  type: number;
  schemaId: number;
  /** Where the contract body starts in the value. */
  start: number;
}

/** Records packed from a fetched batch (`packMessages`), with each record's offset, timestamp and schema id. */
export class PackedRun implements RecordRun {
  constructor(
    private readonly frames: ArrayBuffer,
    /** Byte offset after record `i`'s frame. */
    private readonly ends: Uint32Array,
    private readonly offsets: Float64Array,
    private readonly timestamps: Float64Array,
    private readonly schemaIds: Int32Array,
  ) {}

  get length(): number {
    return this.ends.length;
  }
  offsetAt(i: number): number {
    return this.offsets[i];
  }
  timestampAt(i: number): number {
    return this.timestamps[i];
  }
  schemaIdAt(i: number): number {
    return this.schemaIds[i];
  }
  fingerprintAt(i: number): RecordFingerprint {
    const start = i === 0 ? 0 : this.ends[i - 1];
    const frame = Buffer.from(this.frames, start, this.ends[i] - start);
    const keyLength = frame.readInt32LE(17);
    const keyStart = 21;
    const key = keyLength < 0 ? null : frame.subarray(keyStart, keyStart + keyLength);
    const valueAt = keyStart + Math.max(0, keyLength);
    const valueLength = frame.readInt32LE(valueAt);
    const value = valueLength < 0 ? null : frame.subarray(valueAt + 4, valueAt + 4 + valueLength);
    return recordFingerprint(this.offsets[i], this.timestamps[i], key, value);
  }
  appendTo(builder: FileBuilder, partition: number, from: number, to: number): void {
    if (!builder.appendFrames) throw new Error('this file builder does not take packed records');
    const start = from === 0 ? 0 : this.ends[from - 1];
    builder.appendFrames(partition, new Uint8Array(this.frames, start, this.ends[to - 1] - start));
  }
}

/**
 * Packs fetched messages without an object per record, or returns null when one of them needs more than the
 * wire header read (`bodyOf` returns null: a schema not cached yet, a body to resolve, a value to refuse); the
 * caller then decodes the batch record by record. Null and empty values are tombstones.
 */
export function packMessages(
  messages: readonly FetchedMessage[],
  bodyOf: (value: Buffer) => InPlaceBody | null,
): PackedRun | null {
  const n = messages.length;
  const bodies: (InPlaceBody | null)[] = new Array(n);
  let size = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i];
    size += 1 + 8 + 8 + 4 + (m.key?.length ?? 0) + 4;
    if (m.value === null || m.value.length === 0) continue;
    const body = bodyOf(m.value);
    if (body === null) return null;
    bodies[i] = body;
    size += m.value.length + 2 + 4 + 4 + 4;
  }
  const frames = new ArrayBuffer(size);
  const out = Buffer.from(frames);
  const ends = new Uint32Array(n);
  const offsets = new Float64Array(n);
  const timestamps = new Float64Array(n);
  const schemaIds = new Int32Array(n).fill(-1);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i];
    const body = bodies[i];
    const offset = Number(m.offset);
    const timestamp = Number(m.timestamp);
    offsets[i] = offset;
    timestamps[i] = timestamp;
    out[p] = body ? KIND.avro : KIND.tombstone;
    p = out.writeDoubleLE(offset, p + 1);
    p = out.writeDoubleLE(timestamp, p);
    p = putBytes(out, p, m.key);
    p = putBytes(out, p, m.value);
    if (body) {
      p = out.writeUInt16LE(body.type, p);
      p = out.writeInt32LE(body.schemaId, p);
      p = out.writeInt32LE(body.start, p);
      p = out.writeInt32LE(-1, p);
      schemaIds[i] = body.schemaId;
    }
    ends[i] = p;
  }
  return new PackedRun(frames, ends, offsets, timestamps, schemaIds);
}

function putBytes(out: Buffer, p: number, b: Buffer | null): number {
  if (b === null) return out.writeInt32LE(-1, p);
  const at = out.writeInt32LE(b.length, p);
  out.set(b, at);
  return at + b.length;
}

/**
 * Reads packed records in place, one at a time, with no object per record: after `next()` returns true the
 * fields describe the record (byte ranges into `buf`; a length of -1 is a null key or value).
 */
export class FrameCursor {
  kind = 0;
  offset = 0;
  timestamp = 0;
  keyStart = 0;
  keyLength = -1;
  valueStart = 0;
  valueLength = -1;
  /** Avro records: the record type's index, the schema id, the body's range and where the contract body starts. */
  recordType = 0;
  schemaId = 0;
  bodyStart = 0;
  bodyLength = 0;
  start = 0;
  /** Undecodable records: the reason's UTF-8 range. */
  errorStart = 0;
  errorLength = 0;
  private p = 0;

  constructor(readonly buf: Buffer) {}

  next(): boolean {
    const buf = this.buf;
    let p = this.p;
    if (p >= buf.length) return false;
    this.kind = buf[p];
    this.offset = buf.readDoubleLE(p + 1);
    this.timestamp = buf.readDoubleLE(p + 9);
    p += 17;
    this.keyLength = buf.readInt32LE(p);
    this.keyStart = p + 4;
    p = this.keyStart + Math.max(0, this.keyLength);
    this.valueLength = buf.readInt32LE(p);
    this.valueStart = p + 4;
    p = this.valueStart + Math.max(0, this.valueLength);
    if (this.kind === KIND.avro) {
      this.recordType = buf.readUInt16LE(p);
      this.schemaId = buf.readInt32LE(p + 2);
      this.start = buf.readInt32LE(p + 6);
      const bodyLength = buf.readInt32LE(p + 10);
      p += 14;
      if (bodyLength < 0) {
        if (this.valueLength < 0) throw new Error('a packed Avro record lost its body');
        this.bodyStart = this.valueStart;
        this.bodyLength = this.valueLength;
      } else {
        this.bodyStart = p;
        this.bodyLength = bodyLength;
        p += bodyLength;
      }
    } else if (this.kind === KIND.undecodable) {
      this.errorLength = buf.readInt32LE(p);
      this.errorStart = p + 4;
      p = this.errorStart + this.errorLength;
    } else if (this.kind !== KIND.tombstone)
      throw new Error(`a packed record has an unknown kind ${this.kind}`);
    this.p = p;
    return true;
  }

  /** Whether the current record is an Avro body, an undecodable value, or a tombstone. */
  get isAvro(): boolean {
    return this.kind === KIND.avro;
  }
  get isUndecodable(): boolean {
    return this.kind === KIND.undecodable;
  }
}
