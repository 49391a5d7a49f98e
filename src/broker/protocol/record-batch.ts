/**
 * Record batch v2 (magic 2): header parsing, produce-time validation and control batches.
 *
 *   0 base_offset:INT64   8 batch_length:INT32   12 partition_leader_epoch:INT32   16 magic:INT8
 *  17 crc:UINT32 (CRC-32C over bytes 21..end)   21 attributes:INT16   23 last_offset_delta:INT32
 *  27 base_timestamp:INT64   35 max_timestamp:INT64   43 producer_id:INT64   51 producer_epoch:INT16
 *  53 base_sequence:INT32   57 records_count:INT32   61 records...
 *
 * Attributes: bits 0-2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd), bit 3 timestamp type,
 * bit 4 transactional, bit 5 control.
 */

import { crc32c } from '../../compression/crc32c.ts';
import {
  COMPRESSION_CODECS,
  type CompressionCodec,
  decompressRecordsInChunks,
} from '../../compression/record-batch-codecs.ts';
import { CroupierError } from '../../errors/index.ts';
import { Decoder } from './decoder.ts';
import { ErrorCode } from './error-codes.ts';
import { checkRecords, RecordFramingError, RecordStreamCheck } from './record-framing.ts';

export const BATCH_HEADER_SIZE = 61;
/** Bytes before the batch_length-counted part: base_offset + batch_length. */
export const LOG_OVERHEAD = 12;
const TWO_32 = 4294967296;

export const Attr = {
  COMPRESSION_MASK: 0x07,
  TIMESTAMP_LOG_APPEND: 0x08,
  TRANSACTIONAL: 0x10,
  CONTROL: 0x20,
} as const;

export interface BatchHeader {
  /** Total size of the batch in bytes (batch_length + 12). */
  size: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}

function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * TWO_32, at + 4);
}

/** Reads the header of the batch starting at `at` (the caller checked at least 61 bytes are there). */
export function readBatchHeader(buf: Buffer, at = 0): BatchHeader {
  return {
    size: buf.readInt32BE(at + 8) + LOG_OVERHEAD,
    magic: buf.readInt8(at + 16),
    crc: buf.readUInt32BE(at + 17),
    attributes: buf.readInt16BE(at + 21),
    lastOffsetDelta: buf.readInt32BE(at + 23),
    baseTimestamp: readInt64(buf, at + 27),
    maxTimestamp: readInt64(buf, at + 35),
    producerId: readInt64(buf, at + 43),
    producerEpoch: buf.readInt16BE(at + 51),
    baseSequence: buf.readInt32BE(at + 53),
    recordCount: buf.readInt32BE(at + 57),
  };
}

export function readBaseOffset(buf: Buffer, at = 0): number {
  return readInt64(buf, at);
}

/** Sets base_offset and partition_leader_epoch: neither is covered by the CRC. */
export function stampBatch(buf: Buffer, baseOffset: number, leaderEpoch = 0): void {
  writeInt64(buf, 0, baseOffset);
  buf.writeInt32BE(leaderEpoch, 12);
}

export interface ValidatedBatch {
  header: BatchHeader;
  errorCode: number;
  message?: string;
}

export interface ValidateOptions {
  maxMessageBytes: number;
  /** Produce request version (zstd needs v7+). */
  produceVersion: number;
  /** Compression codecs (attribute bits 0-2) the broker accepts; absent: all five. */
  acceptedCompressions?: ReadonlySet<number>;
}

export { COMPRESSION_CODECS, type CompressionCodec };

function fail(header: BatchHeader, errorCode: number, message: string): ValidatedBatch {
  return { header, errorCode, message };
}

/**
 * Validates one partition's records from a Produce request: exactly one magic-2 batch, intact CRC, sane
 * counts, no client-written control batch; the records are walked to check their framing, a compressed batch's
 * after decompressing them (as Kafka's log validator does: a batch no consumer could read never enters the
 * log). The batch is stored and served as the producer compressed it.
 */
export function validateProducedBatch(records: Buffer, options: ValidateOptions): ValidatedBatch {
  const empty: BatchHeader = {
    size: records.length,
    magic: -1,
    crc: 0,
    attributes: 0,
    lastOffsetDelta: -1,
    baseTimestamp: -1,
    maxTimestamp: -1,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
    recordCount: 0,
  };
  if (records.length < 17)
    return fail(empty, ErrorCode.CORRUPT_MESSAGE, 'records shorter than a batch header');
  const magic = records.readInt8(16);
  if (magic !== 2) {
    return fail(
      empty,
      ErrorCode.INVALID_RECORD,
      `magic ${magic}: Produce v3+ carries only record batches v2`,
    );
  }
  if (records.length < BATCH_HEADER_SIZE) {
    return fail(empty, ErrorCode.CORRUPT_MESSAGE, 'records shorter than a batch header');
  }
  const header = readBatchHeader(records);
  if (header.size < BATCH_HEADER_SIZE)
    return fail(header, ErrorCode.CORRUPT_MESSAGE, 'batch length too small');
  if (header.size > records.length) {
    return fail(header, ErrorCode.CORRUPT_MESSAGE, 'batch length runs past the records');
  }
  if (header.size < records.length) {
    return fail(
      header,
      ErrorCode.INVALID_RECORD,
      'Produce v3+ allows exactly one record batch per partition',
    );
  }
  if (header.size > options.maxMessageBytes) {
    return fail(header, ErrorCode.MESSAGE_TOO_LARGE, `batch of ${header.size} bytes over the topic maximum`);
  }
  if (crc32c(records, 21, header.size) !== header.crc) {
    return fail(header, ErrorCode.CORRUPT_MESSAGE, 'CRC-32C mismatch');
  }
  const compression = header.attributes & Attr.COMPRESSION_MASK;
  if (compression > 4) return fail(header, ErrorCode.CORRUPT_MESSAGE, `unknown compression ${compression}`);
  if (compression === 4 && options.produceVersion < 7) {
    return fail(header, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 'zstd needs Produce v7');
  }
  if (options.acceptedCompressions && !options.acceptedCompressions.has(compression)) {
    return fail(
      header,
      ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
      `${COMPRESSION_CODECS[compression]} batches are not accepted (broker compressionCodecs)`,
    );
  }
  if (header.attributes & Attr.CONTROL) {
    return fail(header, ErrorCode.INVALID_RECORD, 'clients may not write control batches');
  }
  if (header.recordCount <= 0) return fail(header, ErrorCode.INVALID_RECORD, 'batch without records');
  if (header.lastOffsetDelta !== header.recordCount - 1) {
    return fail(header, ErrorCode.INVALID_RECORD, 'last_offset_delta does not match records_count');
  }
  if (header.producerId >= 0 && header.baseSequence < 0) {
    return fail(header, ErrorCode.INVALID_RECORD, 'idempotent batch without a base sequence');
  }
  if (header.attributes & Attr.TRANSACTIONAL && header.producerId < 0) {
    return fail(header, ErrorCode.INVALID_RECORD, 'transactional batch without a producer id');
  }
  if (compression === 0) {
    const problem = checkRecords(records, BATCH_HEADER_SIZE, header.recordCount, header.size);
    if (problem) return fail(header, ErrorCode.INVALID_RECORD, problem);
    return { header, errorCode: ErrorCode.NONE };
  }
  // Records are checked as they are decompressed: the first bad one stops the decompression.
  const codec = COMPRESSION_CODECS[compression]!;
  const check = new RecordStreamCheck(header.recordCount);
  try {
    decompressRecordsInChunks(codec, records.subarray(BATCH_HEADER_SIZE, header.size), (chunk) =>
      check.push(chunk),
    );
  } catch (error) {
    if (error instanceof RecordFramingError) {
      return fail(header, ErrorCode.INVALID_RECORD, `${codec} batch: ${error.message}`);
    }
    const message = error instanceof CroupierError ? error.message : String(error);
    return fail(header, ErrorCode.CORRUPT_MESSAGE, message);
  }
  const problem = check.finish();
  if (problem) return fail(header, ErrorCode.INVALID_RECORD, `${codec} batch: ${problem}`);
  return { header, errorCode: ErrorCode.NONE };
}

/** Control record types (the key's second INT16). */
export const ControlType = { ABORT: 0, COMMIT: 1 } as const;

/**
 * A control batch as Kafka writes it: one record whose key is version 0 + type (4 bytes) and whose value is
 * the end-transaction marker (version 0, coordinator epoch); transactional + control attributes,
 * base_sequence -1.
 */
export function buildControlBatch(options: {
  baseOffset: number;
  producerId: number;
  producerEpoch: number;
  type: number;
  timestamp: number;
  coordinatorEpoch?: number;
}): Buffer {
  // record: length(1) attributes(1) tsDelta(1) offsetDelta(1) keyLen(1) key(4) valueLen(1) value(6) headers(1)
  const recordBody = 1 + 1 + 1 + 1 + 4 + 1 + 6 + 1;
  const size = BATCH_HEADER_SIZE + 1 + recordBody;
  const buf = Buffer.alloc(size);
  writeInt64(buf, 0, options.baseOffset);
  buf.writeInt32BE(size - LOG_OVERHEAD, 8);
  buf.writeInt32BE(0, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(Attr.TRANSACTIONAL | Attr.CONTROL, 21);
  buf.writeInt32BE(0, 23);
  writeInt64(buf, 27, options.timestamp);
  writeInt64(buf, 35, options.timestamp);
  writeInt64(buf, 43, options.producerId);
  buf.writeInt16BE(options.producerEpoch, 51);
  buf.writeInt32BE(-1, 53);
  buf.writeInt32BE(1, 57);
  let p = BATCH_HEADER_SIZE;
  buf[p++] = recordBody * 2; // zig-zag varint of the record length
  buf[p++] = 0; // attributes
  buf[p++] = 0; // timestamp delta
  buf[p++] = 0; // offset delta
  buf[p++] = 4 * 2; // key length
  buf.writeInt16BE(0, p); // key version
  buf.writeInt16BE(options.type, p + 2);
  p += 4;
  buf[p++] = 6 * 2; // value length
  buf.writeInt16BE(0, p); // marker version
  buf.writeInt32BE(options.coordinatorEpoch ?? 0, p + 2);
  p += 6;
  buf[p++] = 0; // headers
  buf.writeUInt32BE(crc32c(buf, 21, size), 17);
  return buf;
}

/**
 * For ListOffsets by timestamp: the offset of the first record in an uncompressed batch whose timestamp is
 * at least `timestamp`, or undefined (compressed batches answer their base offset).
 */
export function firstOffsetAtOrAfter(buf: Buffer, baseOffset: number, timestamp: number): number | undefined {
  const h = readBatchHeader(buf);
  if (h.maxTimestamp < timestamp) return undefined;
  if ((h.attributes & Attr.COMPRESSION_MASK) !== 0) return baseOffset;
  const d = new Decoder(buf, BATCH_HEADER_SIZE, h.size);
  try {
    for (let i = 0; i < h.recordCount; i++) {
      const length = d.varint();
      const end = d.pos + length;
      d.int8();
      const tsDelta = d.varlong();
      const offsetDelta = d.varint();
      if (h.baseTimestamp + tsDelta >= timestamp) return baseOffset + offsetDelta;
      d.pos = end;
    }
  } catch {
    return baseOffset;
  }
  return undefined;
}
