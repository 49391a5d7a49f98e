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
import type { ArchiveRecord, DecodedValue } from '../rows.ts';

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
      p += b.copy(out, p);
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

/** The records `packRecords` packed (their buffers are views of `ab`). */
export function unpackRecords(ab: ArrayBuffer, recordTypes: readonly string[]): ArchiveRecord[] {
  const buf = Buffer.from(ab);
  const records: ArchiveRecord[] = [];
  let p = 0;
  const bytes = (): Buffer | null => {
    const len = buf.readInt32LE(p);
    p += 4;
    if (len < 0) return null;
    p += len;
    return buf.subarray(p - len, p);
  };
  while (p < buf.length) {
    const kind = buf.readUInt8(p);
    const offset = buf.readDoubleLE(p + 1);
    const timestamp = buf.readDoubleLE(p + 9);
    p += 17;
    const key = bytes();
    const value = bytes();
    let decoded: DecodedValue;
    if (kind === KIND.avro) {
      const recordType = recordTypes[buf.readUInt16LE(p)];
      const schemaId = buf.readInt32LE(p + 2);
      const start = buf.readInt32LE(p + 6);
      p += 10;
      let body: Buffer | null = value;
      if (buf.readInt32LE(p) < 0) p += 4;
      else body = bytes();
      if (recordType === undefined || body === null)
        throw new Error('a packed Avro record lost its type or body');
      decoded = { kind: 'avro', recordType, schemaId, body, start };
    } else if (kind === KIND.undecodable) {
      const len = buf.readInt32LE(p);
      decoded = { kind: 'undecodable', error: buf.toString('utf8', p + 4, p + 4 + len) };
      p += 4 + len;
    } else decoded = { kind: 'tombstone' };
    records.push({ offset, timestamp, key, value, decoded });
  }
  return records;
}
