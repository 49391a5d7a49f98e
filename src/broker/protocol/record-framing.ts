/**
 * The framing of the records in a v2 batch, checked as Kafka's log validator checks it: each record's length,
 * timestamp and offset deltas (the offset delta of record i is i), key, value and headers, and nothing after the
 * last record.
 *
 *   Record => length:VARINT attributes:INT8 timestampDelta:VARLONG offsetDelta:VARINT
 *             keyLength:VARINT key valueLength:VARINT value headerCount:VARINT
 *             [headerKeyLength:VARINT headerKey headerValueLength:VARINT headerValue]
 *
 * `checkRecords` walks records that are all in one buffer; `RecordStreamCheck` walks them as a decompressor
 * hands them over, chunk by chunk, and stops it at the first bad record (a compressed batch of zeros that
 * decompresses to 100 MB is refused after its first bytes, not after decompressing them all).
 */

/** Position after the last `zigzag` read. */
let after = 0;

/** A zig-zag varint/varlong at buf[p] (at most `maxBytes`); NaN when truncated or too long. */
function zigzag(buf: Uint8Array, p: number, end: number, maxBytes: number): number {
  if (p < end) {
    const b0 = buf[p]!;
    if (b0 < 0x80) {
      after = p + 1;
      return b0 & 1 ? -((b0 + 1) / 2) : b0 / 2;
    }
  }
  let raw = 0;
  let scale = 1;
  for (let i = 0; i < maxBytes; i++) {
    if (p >= end) return Number.NaN;
    const b = buf[p++]!;
    raw += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      after = p;
      const half = Math.floor(raw / 2);
      return raw % 2 === 0 ? half : -half - 1;
    }
    scale *= 128;
  }
  return Number.NaN;
}

/** The smallest record is 6 bytes: attributes, timestamp and offset deltas, key and value lengths (-1: null), header count. */
const MIN_RECORD = 6;
/** Longest length varint. */
const MAX_LENGTH_BYTES = 5;

/** Checks the fields of record `i`, whose body (after its length) is buf[p, recordEnd). */
function checkRecordBody(buf: Uint8Array, p: number, recordEnd: number, i: number): string | undefined {
  p++; // attributes
  if (Number.isNaN(zigzag(buf, p, recordEnd, 10))) return `record ${i}: bad timestamp delta`;
  p = after;
  const offsetDelta = zigzag(buf, p, recordEnd, 5);
  if (offsetDelta !== i) return `record ${i}: offset delta ${offsetDelta}`;
  p = after;
  const keyLength = zigzag(buf, p, recordEnd, 5);
  if (!(keyLength >= -1)) return `record ${i}: key length ${keyLength}`;
  p = after + Math.max(0, keyLength);
  const valueLength = zigzag(buf, p, recordEnd, 5);
  if (!(valueLength >= -1)) return `record ${i}: value length ${valueLength}`;
  p = after + Math.max(0, valueLength);
  const headers = zigzag(buf, p, recordEnd, 5);
  if (!(headers >= 0)) return `record ${i}: header count ${headers}`;
  p = after;
  for (let h = 0; h < headers; h++) {
    const hk = zigzag(buf, p, recordEnd, 5);
    if (!(hk >= 0)) return `record ${i}: header key length ${hk}`;
    p = after + hk;
    const hv = zigzag(buf, p, recordEnd, 5);
    if (!(hv >= -1)) return `record ${i}: header value length ${hv}`;
    p = after + Math.max(0, hv);
  }
  if (p !== recordEnd) return `record ${i}: length does not match its fields`;
  return undefined;
}

/** Walks `count` records in buf[start, end); returns a description of the first problem, or undefined. */
export function checkRecords(buf: Uint8Array, start: number, count: number, end: number): string | undefined {
  let p = start;
  for (let i = 0; i < count; i++) {
    const length = zigzag(buf, p, end, MAX_LENGTH_BYTES);
    if (!(length >= MIN_RECORD)) return `record ${i}: bad length`;
    p = after;
    const recordEnd = p + length;
    if (recordEnd > end) return `record ${i} runs past the batch`;
    const problem = checkRecordBody(buf, p, recordEnd, i);
    if (problem) return problem;
    p = recordEnd;
  }
  if (p !== end) return 'bytes left after the last record';
  return undefined;
}

/** Thrown out of `RecordStreamCheck.push` to stop the decompressor feeding it. */
export class RecordFramingError extends Error {}

/**
 * Checks `count` records as they arrive in chunks; `push` throws RecordFramingError at the first bad one. A record
 * longer than a chunk is gathered chunk by chunk and joined once it is whole: joining what was pending with each
 * new chunk copied a record of n chunks n times (a 50 MB record of zeros, a few KB as zstd, held the broker's
 * thread for minutes).
 */
export class RecordStreamCheck {
  /** Bytes of the record not complete yet, in the order they came. */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** How many bytes the record begun in `parts` needs in all (0: not known yet). */
  private needed = 0;
  private index = 0;

  constructor(private readonly count: number) {}

  push(chunk: Uint8Array): void {
    const piece = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.needed > 0 && this.partsLength + piece.length < this.needed) {
      // Copied: the decompressor may fill the same memory again for its next chunk.
      this.parts.push(Buffer.from(piece));
      this.partsLength += piece.length;
      return;
    }
    const buf = this.parts.length === 0 ? piece : Buffer.concat([...this.parts, piece]);
    this.parts = [];
    this.partsLength = 0;
    this.needed = 0;
    let p = 0;
    while (p < buf.length) {
      const length = zigzag(buf, p, buf.length, MAX_LENGTH_BYTES);
      if (Number.isNaN(length) && buf.length - p < MAX_LENGTH_BYTES) break; // its length goes on in the next chunk
      if (!(length >= MIN_RECORD)) this.fail(`record ${this.index}: bad length`);
      const recordEnd = after + length;
      if (recordEnd > buf.length) {
        this.needed = recordEnd - p;
        break;
      }
      if (this.index >= this.count) this.fail('bytes left after the last record');
      const problem = checkRecordBody(buf, after, recordEnd, this.index);
      if (problem) this.fail(problem);
      this.index++;
      p = recordEnd;
    }
    if (p < buf.length) {
      this.parts = [Buffer.from(buf.subarray(p))];
      this.partsLength = buf.length - p;
    }
  }

  /** The problem with what was pushed as a whole, once the decompressor is done. */
  finish(): string | undefined {
    if (this.partsLength > 0) {
      return this.index >= this.count
        ? 'bytes left after the last record'
        : `record ${this.index} runs past the batch`;
    }
    if (this.index < this.count) return `record ${this.index}: bad length`;
    return undefined;
  }

  private fail(problem: string): never {
    throw new RecordFramingError(problem);
  }
}
