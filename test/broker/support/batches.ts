/** Builds record batches v2 for protocol tests (CRC-32C computed; records compressed by `compress` if given). */

import { Encoder } from '../../../src/broker/protocol/encoder.ts';
import { crc32c } from '../../../src/compression/crc32c.ts';

export interface TestRecord {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: [string, string][];
  timestampDelta?: number;
}

export interface BatchOptions {
  records: TestRecord[];
  baseTimestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  attributes?: number;
  magic?: number;
  /** Compresses the encoded records (set the codec in `attributes` too); `trailing` bytes go in before it. */
  compress?: (records: Buffer) => Buffer;
  trailing?: Buffer;
}

function bytes(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v) : v;
}

export function encodeRecord(r: TestRecord, index: number): Buffer {
  const body = new Encoder();
  body
    .int8(0)
    .varlong(r.timestampDelta ?? 0)
    .varint(index);
  const key = bytes(r.key);
  if (key) body.varint(key.length).raw(key);
  else body.varint(-1);
  const value = bytes(r.value);
  if (value) body.varint(value.length).raw(value);
  else body.varint(-1);
  const headers = r.headers ?? [];
  body.varint(headers.length);
  for (const [hk, hv] of headers) {
    const k = Buffer.from(hk);
    const v = Buffer.from(hv);
    body.varint(k.length).raw(k).varint(v.length).raw(v);
  }
  const b = body.toBuffer();
  return new Encoder().varint(b.length).raw(b).toBuffer();
}

export function buildBatch(o: BatchOptions): Buffer {
  const encoded = Buffer.concat([...o.records.map(encodeRecord), o.trailing ?? Buffer.alloc(0)]);
  const records = o.compress ? o.compress(encoded) : encoded;
  const ts = o.baseTimestamp ?? 1_700_000_000_000;
  const maxDelta = o.records.reduce((max, r) => Math.max(max, r.timestampDelta ?? 0), 0);
  const e = new Encoder();
  e.int64(0)
    .int32(0)
    .int32(0)
    .int8(o.magic ?? 2)
    .uint32(0);
  e.int16(o.attributes ?? 0)
    .int32(o.records.length - 1)
    .int64(ts)
    .int64(ts + maxDelta)
    .int64(o.producerId ?? -1)
    .int16(o.producerEpoch ?? -1)
    .int32(o.baseSequence ?? -1)
    .int32(o.records.length)
    .raw(records);
  const buf = e.toBuffer();
  buf.writeInt32BE(buf.length - 12, 8);
  buf.writeUInt32BE(crc32c(buf, 21, buf.length), 17);
  return buf;
}
