/**
 * One leaf column of a Parquet file being built: its repetition and definition levels and its values, PLAIN
 * encoded, in growing buffers. `page()` gives the bytes of one v1 data page (levels as RLE runs, then values).
 *
 * Values arrive already in their Parquet byte form (the Avro transcoder copies them out of record bodies), so
 * a record costs a few byte copies per column and no JavaScript object.
 */

import { isUtf8 } from 'node:buffer';

/** Values up to this many bytes are copied byte by byte rather than through a native copy. */
const SHORT_COPY = 48;

/** Largest chunk of value bytes a column allocates at once. */
const MAX_CHUNK = 1 << 20;

export type PhysicalType = 'BOOLEAN' | 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE' | 'BYTE_ARRAY';

export const PHYSICAL_TYPE_ID: Record<PhysicalType, number> = {
  BOOLEAN: 0,
  INT32: 1,
  INT64: 2,
  FLOAT: 4,
  DOUBLE: 5,
  BYTE_ARRAY: 6,
};

function grow(buf: Uint8Array, need: number): Uint8Array {
  const next = new Uint8Array(Math.max(buf.length * 2, need));
  next.set(buf);
  return next;
}

export class LeafColumn {
  /** Level entries (one per value slot, null or not). */
  count = 0;
  /** Values written (non-null slots). */
  values = 0;
  /**
   * Level arrays hold one entry per slot only once a slot differs from the first ones: until then every
   * definition level is `maxDef` and every repetition level 0 (a column with no nulls, outside any list), which
   * the page writes as one run without storing a level per value.
   */
  private defs: Uint8Array | null = null;
  private reps: Uint8Array | null = null;
  /** Value bytes: full chunks, then the chunk being written (`data[0, pos)`); never copied to grow. */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private data: Buffer = Buffer.allocUnsafe(1024);
  private pos = 0;

  constructor(
    readonly path: readonly string[],
    readonly physical: PhysicalType,
    readonly maxDef: number,
    readonly maxRep: number,
  ) {}

  /** Saves where the column is (entries, values, value bytes) into `into[at..at+2]`. */
  markTo(into: Float64Array, at: number): void {
    into[at] = this.count;
    into[at + 1] = this.values;
    into[at + 2] = this.chunkBytes + this.pos;
  }

  /** Drops what was written since `markTo`. */
  rollBackTo(from: Float64Array, at: number): void {
    this.count = from[at];
    this.values = from[at + 1];
    const bytes = from[at + 2];
    while (bytes < this.chunkBytes) {
      const last = this.chunks.pop()!;
      this.chunkBytes -= last.length;
      this.data = last;
    }
    this.pos = bytes - this.chunkBytes;
  }

  /** A slot with no value at definition level `d` (< maxDef). */
  nul(r: number, d: number): void {
    this.level(r, d);
  }

  private level(r: number, d: number): void {
    const i = this.count++;
    if (this.maxDef > 0) {
      if (this.defs !== null || d !== this.maxDef) {
        this.defs = this.defs === null ? uniform(i, this.maxDef) : this.defs;
        if (i >= this.defs.length) this.defs = grow(this.defs, i + 1);
        this.defs[i] = d;
      }
    }
    if (this.maxRep > 0) {
      if (this.reps !== null || r !== 0) {
        this.reps = this.reps === null ? uniform(i, 0) : this.reps;
        if (i >= this.reps.length) this.reps = grow(this.reps, i + 1);
        this.reps[i] = r;
      }
    }
  }

  /**
   * Room for `n` more value bytes in one chunk; returns the chunk to write into at `at` (then call `wrote`). A
   * full chunk is kept as it is and a new one started (twice as large, up to a megabyte), so growing copies
   * nothing.
   */
  reserve(n: number): Buffer {
    if (this.pos + n > this.data.length) {
      if (this.pos > 0) {
        this.chunks.push(this.data.subarray(0, this.pos));
        this.chunkBytes += this.pos;
      }
      this.data = Buffer.allocUnsafe(Math.max(Math.min(this.data.length * 2, MAX_CHUNK), n));
      this.pos = 0;
    }
    return this.data;
  }

  get at(): number {
    return this.pos;
  }

  /** Records a value of `n` bytes written at `at` (after `reserve`), in a slot at levels (r, maxDef). */
  wrote(n: number, r: number): void {
    this.pos += n;
    this.values++;
    this.level(r, this.maxDef);
  }

  /** BYTE_ARRAY value: 4-byte length, then the bytes of `src[start, start + len)`. */
  putBytes(src: Buffer, start: number, len: number, r: number): void {
    const out = this.reserve(4 + len);
    const at = this.pos + 4;
    out.writeUInt32LE(len, this.pos);
    // Short values (ids, names) are copied in a loop: no view object per value, which is most of the cost.
    if (len <= SHORT_COPY) for (let i = 0; i < len; i++) out[at + i] = src[start + i];
    else src.copy(out, at, start, start + len);
    this.wrote(4 + len, r);
  }

  /**
   * A string's bytes as BYTE_ARRAY, like `putBytes`, if they are valid UTF-8; returns false (and writes
   * nothing) if they are not. ASCII, the common case, is checked while copying.
   */
  putUtf8(src: Buffer, start: number, len: number, r: number): boolean {
    const out = this.reserve(4 + len);
    const at = this.pos + 4;
    let high = 0;
    if (len <= SHORT_COPY) {
      for (let i = 0; i < len; i++) {
        const b = src[start + i];
        high |= b;
        out[at + i] = b;
      }
    } else {
      src.copy(out, at, start, start + len);
      high = 0x80;
    }
    if (high & 0x80 && !isUtf8(out.subarray(at, at + len))) return false;
    out.writeUInt32LE(len, this.pos);
    this.wrote(4 + len, r);
    return true;
  }

  putInt32(v: number, r: number): void {
    this.reserve(4).writeInt32LE(v, this.pos);
    this.wrote(4, r);
  }

  /** INT64 from its two 32-bit halves. */
  putInt64(lo: number, hi: number, r: number): void {
    const out = this.reserve(8);
    out.writeUInt32LE(lo >>> 0, this.pos);
    out.writeInt32LE(hi | 0, this.pos + 4);
    this.wrote(8, r);
  }

  putDouble(v: number, r: number): void {
    this.reserve(8).writeDoubleLE(v, this.pos);
    this.wrote(8, r);
  }

  putFloat(v: number, r: number): void {
    this.reserve(4).writeFloatLE(v, this.pos);
    this.wrote(4, r);
  }

  /** BOOLEAN: kept one byte per value here, bit-packed by `page()`. */
  putBoolean(v: boolean, r: number): void {
    this.reserve(1)[this.pos] = v ? 1 : 0;
    this.wrote(1, r);
  }

  /** The data page body: repetition levels, definition levels (each length-prefixed RLE), values. */
  page(): Buffer {
    const parts: Buffer[] = [];
    if (this.maxRep > 0) parts.push(lengthPrefixed(levelsOf(this.reps, 0, this.count, this.maxRep)));
    if (this.maxDef > 0)
      parts.push(lengthPrefixed(levelsOf(this.defs, this.maxDef, this.count, this.maxDef)));
    const values = [...this.chunks, this.data.subarray(0, this.pos)];
    if (this.physical === 'BOOLEAN') parts.push(bitPack(Buffer.concat(values), this.chunkBytes + this.pos));
    else parts.push(...values);
    return Buffer.concat(parts);
  }
}

/** `n` slots of level `level`, with room to grow. */
function uniform(n: number, level: number): Uint8Array {
  const levels = new Uint8Array(Math.max(1024, n * 2));
  if (level !== 0) levels.fill(level, 0, n);
  return levels;
}

/** The RLE levels of a column: of the stored array, or one run of `level` when none was stored. */
function levelsOf(stored: Uint8Array | null, level: number, count: number, maxLevel: number): Buffer {
  return stored === null ? rleRun(count, level, maxLevel) : rleLevels(stored, count, maxLevel);
}

function lengthPrefixed(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32LE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** Levels in the RLE/bit-packing hybrid, as RLE runs only: varint(run << 1), then the value in whole bytes. */
export function rleLevels(levels: Uint8Array, count: number, maxLevel: number): Buffer {
  const width = levelWidth(maxLevel);
  const out: number[] = [];
  let i = 0;
  while (i < count) {
    const v = levels[i];
    let j = i + 1;
    while (j < count && levels[j] === v) j++;
    pushRun(out, j - i, v, width);
    i = j;
  }
  return Buffer.from(out);
}

/** `count` levels all equal to `level`, as RLE runs. */
export function rleRun(count: number, level: number, maxLevel: number): Buffer {
  const out: number[] = [];
  if (count > 0) pushRun(out, count, level, levelWidth(maxLevel));
  return Buffer.from(out);
}

/** Bytes a level value takes in an RLE run. */
const levelWidth = (maxLevel: number) => Math.ceil(Math.log2(maxLevel + 1) / 8);

/** One RLE run: varint(length << 1), then the value in `width` little-endian bytes. */
function pushRun(out: number[], length: number, value: number, width: number): void {
  let header = length * 2;
  while (header >= 0x80) {
    out.push((header & 0x7f) | 0x80);
    header = Math.floor(header / 128);
  }
  out.push(header);
  out.push(value);
  for (let k = 1; k < width; k++) out.push(0);
}

function bitPack(bytes: Buffer, n: number): Buffer {
  const out = Buffer.alloc(Math.ceil(n / 8));
  for (let i = 0; i < n; i++) if (bytes[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}
