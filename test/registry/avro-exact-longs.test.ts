/**
 * Avro longs keep their sign and value over every safe integer. avsc read (and wrote) a long below −2^52 in floating
 * point from a zig-zag form past 2^53, which rounds to even: −8.64·10^15, the earliest Date, came back as
 * +8.64·10^15, from a record any Kafka client can write.
 */
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { createEventCodec } from '../../src/kafka/index.ts';
import { loadSchemas } from '../../streams/schemas/index.ts';

/** The zig-zag varint of `x`, computed exactly. */
function zigzag(x: bigint): Buffer {
  const out: number[] = [];
  for (let u = x < 0n ? (-x << 1n) - 1n : x << 1n; ; u >>= 7n) {
    if (u < 0x80n) return Buffer.from([...out, Number(u)]);
    out.push(Number((u & 0x7fn) | 0x80n));
  }
}

// The codec installs the exact long reader and writer for the thread, as the topology's and the gateway's do.
createEventCodec({ registryUrl: 'http://127.0.0.1:1', schemas: loadSchemas() });
const long = avro.Type.forSchema('long');

const VALUES = [
  0,
  -1,
  1,
  2 ** 28,
  -(2 ** 28) - 1,
  2 ** 31,
  -(2 ** 31) - 1,
  1_733_600_000_000,
  2 ** 52,
  -(2 ** 52),
  -(2 ** 52) - 1,
  -8.64e15,
  8.64e15,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
];

describe('Avro longs', () => {
  it('are read with their sign and value from the bytes any client writes', () => {
    for (const x of VALUES) expect(long.fromBuffer(zigzag(BigInt(x))), String(x)).toBe(x);
  });

  it('are written as those bytes, and read back', () => {
    // avsc's writer takes |x| ≤ 2^53 − 2 (its own check refuses the two safe integers past it, with an error).
    for (const x of VALUES.filter((v) => Math.abs(v) < Number.MAX_SAFE_INTEGER)) {
      const bytes = long.toBuffer(x);
      expect(bytes.equals(zigzag(BigInt(x))), String(x)).toBe(true);
      expect(long.fromBuffer(bytes)).toBe(x);
    }
  });

  it('past the safe integers, leave the record cut short instead of reading a value it does not hold', () => {
    for (const x of [2n ** 53n + 2n, -(2n ** 60n), 2n ** 62n]) {
      expect(() => long.fromBuffer(zigzag(x)), String(x)).toThrow(/truncated/);
    }
  });

  it('inside a record: an ItemChange-like row with the earliest Date keeps it', () => {
    const row = avro.Type.forSchema({
      type: 'record',
      name: 'Row',
      fields: [
        { name: 'itemId', type: 'string' },
        { name: 'createdAt', type: 'long' },
      ],
    });
    const bytes = Buffer.concat([Buffer.from([2 * 1, 0x61]), zigzag(-8_640_000_000_000_000n)]);
    expect(row.fromBuffer(bytes)).toEqual({ itemId: 'a', createdAt: -8.64e15 });
  });
});
