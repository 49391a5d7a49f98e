/**
 * Growable writer for response bodies. Large buffers (record batches on the Fetch path) are appended by
 * reference instead of copied: the result is a list of chunks the network layer writes with one cork.
 */
const TWO_32 = 4294967296;
/** Buffers at least this long are referenced, shorter ones are copied. */
const REFERENCE_THRESHOLD = 1024;

export class Encoder {
  private buf: Buffer;
  private pos = 0;
  private start = 0;
  private readonly chunks: Buffer[] = [];
  private chunkedBytes = 0;
  private readonly first: Buffer;

  constructor(initialCapacity = 512) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
    this.first = this.buf;
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.chunkedBytes + (this.pos - this.start);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    this.buf = Buffer.allocUnsafe(Math.max(this.buf.length * 2, n, 512));
    this.pos = 0;
    this.start = 0;
  }

  private flush(): void {
    if (this.pos > this.start) {
      this.chunks.push(this.buf.subarray(this.start, this.pos));
      this.chunkedBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  int64(v: number | bigint): this {
    this.ensure(8);
    if (typeof v === 'bigint') {
      this.buf.writeBigInt64BE(BigInt.asIntN(64, v), this.pos);
    } else if (v >= 2 ** 53 || v <= -(2 ** 53) || !Number.isInteger(v)) {
      // Beyond exact doubles (only ever an echo of a client's out-of-range value): wrap like a Java long.
      this.buf.writeBigInt64BE(BigInt.asIntN(64, BigInt(Number.isFinite(v) ? Math.trunc(v) : 0)), this.pos);
    } else {
      const hi = Math.floor(v / TWO_32);
      this.buf.writeInt32BE(hi, this.pos);
      this.buf.writeUInt32BE(v - hi * TWO_32, this.pos + 4);
    }
    this.pos += 8;
    return this;
  }

  uvarint(v: number): this {
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  varint(v: number): this {
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  varlong(v: number): this {
    let z = v >= 0 ? v * 2 : -v * 2 - 1;
    this.ensure(10);
    while (z >= 0x80) {
      this.buf[this.pos++] = (z % 128) | 0x80;
      z = Math.floor(z / 128);
    }
    this.buf[this.pos++] = z;
    return this;
  }

  string(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    this.int16(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
    return this;
  }

  nullableString(s: string | null | undefined): this {
    if (s === null || s === undefined) return this.int16(-1);
    return this.string(s);
  }

  compactString(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    this.uvarint(len + 1);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
    return this;
  }

  compactNullableString(s: string | null | undefined): this {
    if (s === null || s === undefined) return this.uvarint(0);
    return this.compactString(s);
  }

  bytes(b: Buffer): this {
    this.int32(b.length);
    return this.raw(b);
  }

  nullableBytes(b: Buffer | null | undefined): this {
    if (b === null || b === undefined) return this.int32(-1);
    return this.bytes(b);
  }

  /** Appends bytes as they are; large ones by reference. */
  raw(b: Buffer): this {
    if (b.length >= REFERENCE_THRESHOLD) {
      this.flush();
      this.chunks.push(b);
      this.chunkedBytes += b.length;
      return this;
    }
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
    return this;
  }

  array<T>(items: readonly T[], item: (e: Encoder, value: T) => void): this {
    this.int32(items.length);
    for (const v of items) item(this, v);
    return this;
  }

  nullableArray<T>(items: readonly T[] | null | undefined, item: (e: Encoder, value: T) => void): this {
    if (items === null || items === undefined) return this.int32(-1);
    return this.array(items, item);
  }

  compactArray<T>(items: readonly T[], item: (e: Encoder, value: T) => void): this {
    this.uvarint(items.length + 1);
    for (const v of items) item(this, v);
    return this;
  }

  /** An empty tagged-field section. */
  emptyTaggedFields(): this {
    return this.uvarint(0);
  }

  /**
   * Overwrites an INT32 at an absolute position in the first buffer (for a size prefix reserved at the start).
   * Only positions inside the encoder's first buffer can be patched.
   */
  patchInt32(at: number, v: number): void {
    this.first.writeInt32BE(v, at);
  }

  toChunks(): Buffer[] {
    this.flush();
    return this.chunks;
  }

  toBuffer(): Buffer {
    const chunks = this.toChunks();
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.chunkedBytes);
  }
}
