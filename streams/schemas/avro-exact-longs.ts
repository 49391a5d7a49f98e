/**
 * Avro longs read and written exactly over JavaScript's safe integers. avsc reads a long of more than 28 bits in
 * floating point from its zig-zag form u (2x for x ≥ 0, −2x − 1 for x < 0), and for x < −2^52 the odd u is past
 * 2^53 and rounds to even: the sign is lost, −8.64·10^15 (the earliest Date) read as +8.64·10^15, from a record any
 * Kafka client can write; its writer rounds the same way. Here the sign comes from the zig-zag form's low bit and
 * the magnitude is summed from the bits above it, exact up to 2^53; a long beyond the safe integers marks the
 * record cut short (the decoders answer an offset of −1, refused as truncated) instead of a value it does not hold.
 *
 * Installed once per thread, before any resolver is made (resolvers copy `_read` when they are created).
 */
import avro from 'avsc';

/** The part of avsc's Tap these readers use. */
interface Tap {
  buf: Buffer;
  pos: number;
  writeLong(n: number): void;
  _invalidate(): void;
}

interface LongTypeClass {
  prototype: {
    _read(tap: Tap): number;
    _write(tap: Tap, value: unknown): void;
  };
}

/** The earliest long avsc's own writer writes exactly: below it the zig-zag form is past 2^53. */
const EXACT_FLOAT_MIN = -(2 ** 52);

let installed = false;

/** Reads a zig-zag varint long exactly; past the safe integers the tap is invalidated (0 returned). */
export function readExactLong(tap: Tap): number {
  const buf = tap.buf;
  let n = 0;
  let k = 0;
  let b: number;
  do {
    b = buf[tap.pos++];
    n |= (b & 0x7f) << k;
    k += 7;
  } while (b & 0x80 && k < 28);
  if (!(b & 0x80)) return (n >> 1) ^ -(n & 1);
  // More than 28 bits: m = ⌊u / 2⌋ from the bits above the sign, each group times its power of two.
  const sign = n & 1;
  let m = n >>> 1;
  let scale = 2 ** 27;
  do {
    b = buf[tap.pos++];
    m += (b & 0x7f) * scale;
    scale *= 128;
  } while (b & 0x80);
  if (m > Number.MAX_SAFE_INTEGER) {
    tap._invalidate();
    return 0;
  }
  return sign ? -m - 1 : m;
}

/** Writes `n` (a safe integer) as a zig-zag varint long exactly. */
export function writeExactLong(tap: Tap, n: number): void {
  if (n >= EXACT_FLOAT_MIN) {
    tap.writeLong(n);
    return;
  }
  // u = 2m + 1 with m = −n − 1: its first group holds the sign bit and m's low six bits.
  const buf = tap.buf;
  const m = -n - 1;
  let rest = Math.floor(m / 64);
  buf[tap.pos++] = 1 | ((m % 64) << 1) | 0x80;
  while (rest >= 128) {
    buf[tap.pos++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  buf[tap.pos++] = rest;
}

/** Replaces avsc's long reader and writer with the exact ones; idempotent. */
export function exactAvroLongs(): void {
  if (installed) return;
  installed = true;
  const { LongType } = avro.types as unknown as { LongType: LongTypeClass };
  const write = LongType.prototype._write;
  LongType.prototype._read = readExactLong;
  LongType.prototype._write = function writeLong(tap, value) {
    // avsc's own checks (a safe integer) first; only the values its float path would round are written here.
    if (typeof value === 'number' && value < EXACT_FLOAT_MIN && Number.isSafeInteger(value))
      writeExactLong(tap, value);
    else write.call(this, tap, value);
  };
}
