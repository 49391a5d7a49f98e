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
  const bytes = (b: Buffer | null) => {
    if (b === null) p = out.writeInt32LE(-1, p);
    else {
      p = out.writeInt32LE(b.length, p);
      out.set(b, p);
      p += b.length;
    }
  };
  for (const r of records) {
    const d = r.decoded;
    p = out.writeUInt8(KIND[d.kind as keyof typeof KIND], p);
    p = out.writeDoubleLE(r.offset, p);
    p = out.writeDoubleLE(r.timestamp, p);
    bytes(r.key);
    bytes(r.value);
    if (d.kind === 'avro') {
      const type = recordTypes.indexOf(d.recordType);
      if (type < 0) throw new Error(`record type ${d.recordType} is not one of the table's`);
      p = out.writeUInt16LE(type, p);
      p = out.writeInt32LE(d.schemaId, p);
      p = out.writeInt32LE(d.start, p);
      if (d.body === r.value) p = out.writeInt32LE(-1, p);
      else bytes(d.body);
    } else if (d.kind === 'undecodable') {
      const len = Buffer.byteLength(d.error, 'utf8');
      p = out.writeInt32LE(len, p);
      p += out.write(d.error, p, 'utf8');
    }
  }
  return ab;
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
