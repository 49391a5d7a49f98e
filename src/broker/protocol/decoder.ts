/**
 * Bounds-checked reader over one request body. Every read that would run past the end throws a
 * `DecodeError`; the network layer turns that into "close the connection and log why".
 *
 * INT64 fields are read as JavaScript numbers: offsets, timestamps and producer ids stay far below 2^53.
 */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

const TWO_32 = 4294967296;

export class Decoder {
  buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new DecodeError(`truncated ${what}: need ${n} bytes at ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  int8(): number {
    this.need(1, 'INT8');
    return this.buf.readInt8(this.pos++);
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2, 'INT16');
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4, 'INT32');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4, 'UINT32');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): number {
    this.need(8, 'INT64');
    const hi = this.buf.readInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return hi * TWO_32 + lo;
  }

  /** Unsigned LEB128 (Kafka's UNSIGNED_VARINT), at most 5 bytes. */
  uvarint(): number {
    if (this.pos < this.end) {
      const b0 = this.buf[this.pos]!;
      if (b0 < 0x80) {
        this.pos++;
        return b0;
      }
    }
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      this.need(1, 'VARINT');
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (result > 0xffffffff) throw new DecodeError('varint overflows 32 bits');
        return result;
      }
      shift += 7;
    }
    throw new DecodeError('varint longer than 5 bytes');
  }

  /** Zig-zag VARINT (signed 32-bit). */
  varint(): number {
    const raw = this.uvarint();
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  /** Zig-zag VARLONG, at most 10 bytes, returned as a number (exact up to 2^53). */
  varlong(): number {
    if (this.pos < this.end) {
      const b0 = this.buf[this.pos]!;
      if (b0 < 0x80) {
        this.pos++;
        return b0 & 1 ? -((b0 + 1) / 2) : b0 / 2;
      }
    }
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      this.need(1, 'VARLONG');
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        const half = Math.floor(result / 2);
        return result % 2 === 0 ? half : -half - 1;
      }
      shift += 7;
    }
    throw new DecodeError('varlong longer than 10 bytes');
  }

  string(): string {
    const len = this.int16();
    if (len < 0) throw new DecodeError('null where a STRING is required');
    return this.utf8(len);
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len === -1) return null;
    if (len < -1) throw new DecodeError(`invalid string length ${len}`);
    return this.utf8(len);
  }

  compactString(): string {
    const s = this.compactNullableString();
    if (s === null) throw new DecodeError('null where a COMPACT_STRING is required');
    return s;
  }

  compactNullableString(): string | null {
    const len = this.uvarint() - 1;
    if (len === -1) return null;
    return this.utf8(len);
  }

  private utf8(len: number): string {
    this.need(len, 'string');
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** BYTES: a view into the request buffer (no copy). */
  bytes(): Buffer {
    const b = this.nullableBytes();
    if (b === null) throw new DecodeError('null where BYTES are required');
    return b;
  }

  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len === -1) return null;
    if (len < -1) throw new DecodeError(`invalid bytes length ${len}`);
    return this.raw(len);
  }

  raw(len: number): Buffer {
    this.need(len, 'bytes');
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  private count(n: number, what: string): number {
    // Every element of every array in this protocol takes at least one byte: a cheap guard against
    // a fuzzed length making us allocate gigabytes.
    if (n > this.end - this.pos) throw new DecodeError(`${what} length ${n} exceeds the remaining bytes`);
    return n;
  }

  array<T>(item: (d: Decoder) => T): T[] {
    const n = this.int32();
    if (n < 0) throw new DecodeError('null where an ARRAY is required');
    this.count(n, 'array');
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }

  nullableArray<T>(item: (d: Decoder) => T): T[] | null {
    const n = this.int32();
    if (n === -1) return null;
    if (n < -1) throw new DecodeError(`invalid array length ${n}`);
    this.count(n, 'array');
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }

  compactArray<T>(item: (d: Decoder) => T): T[] {
    const n = this.uvarint() - 1;
    if (n < 0) throw new DecodeError('null where a COMPACT_ARRAY is required');
    this.count(n, 'compact array');
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }

  /** Reads and discards a tagged-field section (flexible versions). */
  taggedFields(): void {
    const n = this.uvarint();
    this.count(n, 'tagged fields');
    for (let i = 0; i < n; i++) {
      this.uvarint(); // tag
      const size = this.uvarint();
      this.raw(size);
    }
  }
}
