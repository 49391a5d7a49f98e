/**
 * A segment's offset index: one 50-byte entry per record batch, in log order.
 *
 *   relative_offset:INT32 position:INT32 size:INT32 last_offset_delta:INT32 max_timestamp:INT64
 *   producer_id:INT64 producer_epoch:INT16 base_sequence:INT32 attributes:INT16 control_type:INT8 layout:INT8
 *   append_time:INT64
 *
 * It lets recovery rebuild the in-memory batch list, the idempotent-producer state, open transactions and
 * the aborted-transactions index without reading the segments; `append_time` (when this broker appended the
 * batch) keeps a recovered batch's retention what it would have been without the restart. `layout` is 1; an
 * index of the older 42-byte layout (no append time, 0 there) is not read: recovery scans the segment instead.
 */
import type { LogEntry } from '../log/partition.ts';
import type { RecoveredBatchInfo } from '../log/partition-transactions.ts';
import { Decoder } from '../protocol/decoder.ts';
import { Attr, BATCH_HEADER_SIZE, readBatchHeader } from '../protocol/record-batch.ts';

export const INDEX_ENTRY = 50;
/** The `layout` byte of this entry layout. */
export const INDEX_LAYOUT = 1;
const TWO_32 = 4294967296;

function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * TWO_32, at + 4);
}

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}

/** Control type of a control batch (-1 for data batches). */
export function controlTypeOf(batch: Buffer, attributes: number): number {
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

/** Whether the entry at `at` is of this layout (an index of the older one is scanned again instead). */
export function isCurrentIndexEntry(buf: Buffer, at: number): boolean {
  return buf.readInt8(at + 41) === INDEX_LAYOUT;
}

/** A batch as the index (or a scan of its segment) describes it. */
export interface IndexedBatch {
  entry: LogEntry;
  info: RecoveredBatchInfo;
}

export function encodeIndexEntry(segmentBase: number, entry: LogEntry, batch: Buffer): Buffer {
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
  out.writeInt8(INDEX_LAYOUT, 41);
  writeInt64(out, 42, entry.appendTime);
  return out;
}

export function decodeIndexEntry(buf: Buffer, at: number, segmentBase: number): IndexedBatch {
  const baseOffset = segmentBase + buf.readInt32BE(at);
  const maxTimestamp = readInt64(buf, at + 16);
  return {
    entry: {
      baseOffset,
      lastOffset: baseOffset + buf.readInt32BE(at + 12),
      size: buf.readInt32BE(at + 8),
      maxTimestamp,
      appendTime: readInt64(buf, at + 42),
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
