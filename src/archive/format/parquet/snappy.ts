/**
 * Snappy compression (the raw block format Parquet's SNAPPY codec uses), written for page bodies: every
 * reader of Parquet (DuckDB, Spark, Trino, Arrow) decompresses it, and it costs little CPU.
 *
 * Format: the uncompressed length as a varint, then elements. An element's tag byte says what it is by its
 * low two bits: 00 a literal (length − 1 in the upper six bits, or 60–63 meaning that 1–4 bytes follow with
 * it), 01 a copy of 4–11 bytes from an offset below 2048 (three bits of length, three of offset, then one
 * offset byte), 10 a copy of 1–64 bytes from a 16-bit offset.
 *
 * The compressor looks for 4-byte matches through a hash table, within 64 KiB fragments (so every offset fits
 * in 16 bits), and steps faster through data that does not compress.
 */

const FRAGMENT = 1 << 16;
const HASH_BITS = 14;

/** Writes a literal of `input[from, to)` at `o`; returns the position after it. */
function literal(out: Buffer, o: number, input: Uint8Array, from: number, to: number): number {
  const size = to - from;
  if (size === 0) return o;
  const m = size - 1;
  if (m < 60) out[o++] = m << 2;
  else if (m < 0x100) {
    out[o++] = 60 << 2;
    out[o++] = m;
  } else if (m < 0x10000) {
    out[o++] = 61 << 2;
    out[o++] = m & 0xff;
    out[o++] = m >>> 8;
  } else if (m < 0x1000000) {
    out[o++] = 62 << 2;
    out[o++] = m & 0xff;
    out[o++] = (m >>> 8) & 0xff;
    out[o++] = m >>> 16;
  } else {
    out[o++] = 63 << 2;
    o = out.writeUInt32LE(m, o);
  }
  if (size <= 32) for (let i = 0; i < size; i++) out[o + i] = input[from + i];
  else out.set(input.subarray(from, to), o);
  return o + size;
}

/** Writes a copy element with a two-byte offset at `o`; returns the position after it. */
function copy2(out: Buffer, o: number, offset: number, size: number): number {
  out[o] = ((size - 1) << 2) | 2;
  out[o + 1] = offset & 0xff;
  out[o + 2] = offset >>> 8;
  return o + 3;
}

/** Writes the copy of `size` bytes from `offset` back at `o`; returns the position after it. */
function copy(out: Buffer, o: number, offset: number, size: number): number {
  while (size >= 68) {
    o = copy2(out, o, offset, 64);
    size -= 64;
  }
  if (size > 64) {
    o = copy2(out, o, offset, 60);
    size -= 60;
  }
  if (size <= 11 && offset < 2048) {
    out[o] = ((offset >>> 8) << 5) | ((size - 4) << 2) | 1;
    out[o + 1] = offset & 0xff;
    return o + 2;
  }
  return copy2(out, o, offset, size);
}

/** The 4 bytes at `i`, little-endian. */
const word = (input: Uint8Array, i: number) =>
  input[i] | (input[i + 1] << 8) | (input[i + 2] << 16) | (input[i + 3] << 24);

/** The Snappy block of `input`. */
export function snappyCompress(input: Uint8Array): Buffer {
  const n = input.length;
  const out = Buffer.allocUnsafe(32 + n + Math.ceil(n / 6));
  let o = 0;
  let len = n;
  while (len >= 0x80) {
    out[o++] = (len & 0x7f) | 0x80;
    len >>>= 7;
  }
  out[o++] = len;
  const table = new Int32Array(1 << HASH_BITS);
  for (let base = 0; base < n; base += FRAGMENT) {
    const end = Math.min(n, base + FRAGMENT);
    table.fill(0);
    let pending = base;
    let i = base;
    let skip = 32;
    while (i + 4 <= end) {
      const v = word(input, i);
      const h = Math.imul(v, 0x1e35a7bd) >>> (32 - HASH_BITS);
      const candidate = table[h] - 1;
      table[h] = i + 1;
      if (candidate >= base && word(input, candidate) === v) {
        o = literal(out, o, input, pending, i);
        let size = 4;
        while (i + size < end && input[candidate + size] === input[i + size]) size++;
        o = copy(out, o, i - candidate, size);
        i += size;
        pending = i;
        skip = 32;
      } else i += skip++ >>> 5;
    }
    o = literal(out, o, input, pending, end);
  }
  return out.subarray(0, o);
}
