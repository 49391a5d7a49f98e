/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of Kafka record batches v2, computed
 * over the bytes from the attributes field to the end of the batch. Not zlib's CRC-32.
 *
 * Slicing-by-16 over aligned 32-bit little-endian word reads (sixteen table lookups per sixteen bytes),
 * with a byte-at-a-time head and tail; a byte-only path on big-endian hosts.
 */
import { endianness } from 'node:os';

const POLY = 0x82f63b78;
const T = new Int32Array(16 * 256);

for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n]!;
  for (let k = 1; k < 16; k++) {
    c = T[c & 0xff]! ^ (c >>> 8);
    T[k * 256 + n] = c;
  }
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** CRC-32C of buf[start, end), as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = -1;
  let i = start;
  if (LITTLE_ENDIAN && end - start >= 64) {
    while (((buf.byteOffset + i) & 3) !== 0) {
      crc = T[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
      i++;
    }
    const words = ((end - i) >>> 4) << 2;
    const w32 = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    for (let w = 0; w < words; w += 4) {
      const a = crc ^ w32[w]!;
      const b = w32[w + 1]!;
      const c = w32[w + 2]!;
      const d = w32[w + 3]!;
      crc =
        T[3840 + (a & 0xff)]! ^
        T[3584 + ((a >>> 8) & 0xff)]! ^
        T[3328 + ((a >>> 16) & 0xff)]! ^
        T[3072 + (a >>> 24)]! ^
        T[2816 + (b & 0xff)]! ^
        T[2560 + ((b >>> 8) & 0xff)]! ^
        T[2304 + ((b >>> 16) & 0xff)]! ^
        T[2048 + (b >>> 24)]! ^
        T[1792 + (c & 0xff)]! ^
        T[1536 + ((c >>> 8) & 0xff)]! ^
        T[1280 + ((c >>> 16) & 0xff)]! ^
        T[1024 + (c >>> 24)]! ^
        T[768 + (d & 0xff)]! ^
        T[512 + ((d >>> 8) & 0xff)]! ^
        T[256 + ((d >>> 16) & 0xff)]! ^
        T[d >>> 24]!;
    }
    i += words * 4;
  }
  while (i < end) {
    crc = T[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
    i++;
  }
  return (crc ^ -1) >>> 0;
}
