/**
 * Stable argsort of numbers: a comparison sort for short arrays, an LSD radix sort over the IEEE-754 bits
 * (four 16-bit digits) for long ones, so ranking a million values takes tens of milliseconds.
 */

const RADIX_FROM = 4096;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Indices that put `x` in ascending order (equal values keep their input order). NaN not allowed. */
export function argsort(x: ArrayLike<number>): Uint32Array {
  const n = x.length;
  if (n < RADIX_FROM || !LITTLE_ENDIAN) {
    const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b] || a - b);
    return Uint32Array.from(idx);
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = x[i] + 0; // −0 → +0 so they tie as they compare
  const words = new Uint32Array(values.buffer);
  // Map each double to an unsigned key with the same order: flip all bits of negatives, the sign bit of the rest.
  for (let i = 0; i < n; i++) {
    const hi = words[2 * i + 1];
    if (hi & 0x80000000) {
      words[2 * i] = ~words[2 * i];
      words[2 * i + 1] = ~hi;
    } else {
      words[2 * i + 1] = hi ^ 0x80000000;
    }
  }
  let src = new Uint32Array(n);
  let dst = new Uint32Array(n);
  for (let i = 0; i < n; i++) src[i] = i;
  const counts = new Uint32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(words[2 * i + word] >>> shift) & 0xffff]++;
    let total = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[d];
      counts[d] = total;
      total += c;
    }
    for (let i = 0; i < n; i++) {
      const j = src[i];
      dst[counts[(words[2 * j + word] >>> shift) & 0xffff]++] = j;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  return src;
}
