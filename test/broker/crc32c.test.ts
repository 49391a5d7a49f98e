/** CRC-32C against the standard check value and a bitwise reference, at every alignment and length. */
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/compression/crc32c.ts';

function reference(buf: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('matches the Castagnoli check value (not zlib CRC-32)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it('matches a bitwise reference at every offset and many lengths', () => {
    const data = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 167 + 13) & 0xff));
    for (let offset = 0; offset < 8; offset++) {
      for (const length of [0, 1, 7, 15, 16, 63, 64, 65, 100, 257, 512]) {
        const view = data.subarray(offset, offset + length);
        expect(crc32c(view)).toBe(reference(view));
        expect(crc32c(data, offset, offset + length)).toBe(reference(view));
      }
    }
  });
});
