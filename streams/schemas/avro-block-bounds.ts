/**
 * Bounds the item counts avsc reads for Avro arrays and maps by the bytes the record has left. A block's count is a
 * varint, and avsc reads (or skips) as many items as it says, reading past the end of the record as zeros: one
 * 66-byte ItemChange whose `tags` said 2^31 - 1 items filled an array until the topology thread's heap ran out,
 * which ended the whole process. Every item of an array or entry of a map takes at least one byte (arrays of items
 * that take none are refused, zero-byte-arrays.ts), so a block that says more than the bytes left, or a block size
 * (a negative count's) that is negative or past them, marks the record cut short (avsc's decoders then answer an
 * offset of -1, refused as truncated) instead of being read.
 *
 * Installed once per thread, before any resolver is made (resolvers copy `_read` when they are created).
 */
import avro from 'avsc';

/** The part of avsc's Tap the bounded readers use. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  readString(): string;
  skipString(): void;
  _invalidate(): void;
}

interface ItemReader {
  _read(tap: Tap): unknown;
  _skip(tap: Tap): void;
}

interface BlockType {
  prototype: {
    _read(this: { itemsType?: ItemReader; valuesType?: ItemReader }, tap: Tap): unknown;
    _skip(this: { itemsType?: ItemReader; valuesType?: ItemReader }, tap: Tap): void;
  };
}

let installed = false;

const left = (tap: Tap) => tap.buf.length - tap.pos;

/** The item count of the next block to read (0 at the end, or when it cannot fit: the tap is then invalid). */
function blockCount(tap: Tap): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    const size = tap.readLong();
    if (!(size >= 0 && size <= left(tap))) n = Number.POSITIVE_INFINITY;
  }
  if (n > left(tap)) {
    tap._invalidate();
    return 0;
  }
  return n;
}

/** Skips the blocks of an array or map, each item with `skipItem`. */
function skipBlocks(tap: Tap, skipItem: () => void): void {
  for (;;) {
    let n = tap.readLong();
    if (n === 0) return;
    if (n < 0) {
      const size = tap.readLong();
      if (!(size >= 0 && size <= left(tap))) {
        tap._invalidate();
        return;
      }
      tap.pos += size;
      continue;
    }
    if (n > left(tap)) {
      tap._invalidate();
      return;
    }
    while (n--) skipItem();
  }
}

/** Replaces avsc's array and map readers with ones bounded by the bytes left; idempotent. */
export function boundAvroBlocks(): void {
  if (installed) return;
  installed = true;
  const types = avro.types as unknown as Record<'ArrayType' | 'MapType', BlockType>;
  types.ArrayType.prototype._read = function readArray(tap) {
    const items = this.itemsType!;
    let val: unknown[] | undefined;
    let i = 0;
    for (let n = blockCount(tap); n > 0; n = blockCount(tap)) {
      val = val ?? new Array(n);
      while (n--) val[i++] = items._read(tap);
    }
    return val ?? [];
  };
  types.ArrayType.prototype._skip = function skipArray(tap) {
    const items = this.itemsType!;
    skipBlocks(tap, () => items._skip(tap));
  };
  types.MapType.prototype._read = function readMap(tap) {
    const values = this.valuesType!;
    const val: Record<string, unknown> = {};
    for (let n = blockCount(tap); n > 0; n = blockCount(tap)) {
      while (n--) {
        const key = tap.readString();
        const value = values._read(tap);
        // A key named `__proto__` is an entry like any other, not the map's prototype.
        if (key === '__proto__')
          Object.defineProperty(val, key, { value, enumerable: true, writable: true, configurable: true });
        else val[key] = value;
      }
    }
    return val;
  };
  types.MapType.prototype._skip = function skipMap(tap) {
    const values = this.valuesType!;
    skipBlocks(tap, () => {
      tap.skipString();
      values._skip(tap);
    });
  };
}
