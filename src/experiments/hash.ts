/**
 * MurmurHash3 x86 32-bit (Austin Appleby, public domain algorithm) over bytes: a fast, well-mixed, stable
 * hash for bucketing users into experiments. The same input and seed give the same value on every machine.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3_x86_32 of `bytes[0..length-1]`, unsigned. */
export function murmur3(bytes: Uint8Array, length: number, seed = 0): number {
  let h = seed >>> 0;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = length & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= bytes[blocks + 2] << 16;
    if (rest >= 2) k ^= bytes[blocks + 1] << 8;
    k ^= bytes[blocks];
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes strings as UTF-8 with a reused buffer. */
export class StringHasher {
  private buffer = new Uint8Array(256);
  private readonly encoder = new TextEncoder();

  /** MurmurHash3 of the UTF-8 bytes of `${salt}:${value}`. */
  hash(salt: string, value: string): number {
    const needed = 3 * (salt.length + value.length + 1);
    if (this.buffer.length < needed) this.buffer = new Uint8Array(needed);
    const head = this.encoder.encodeInto(salt, this.buffer).written;
    this.buffer[head] = 0x3a;
    const tail = this.encoder.encodeInto(value, this.buffer.subarray(head + 1)).written;
    return murmur3(this.buffer, head + 1 + tail);
  }
}
