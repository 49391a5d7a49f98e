/**
 * An Avro array or map whose block says more items than its record has bytes left is not read: the record is cut
 * short (avsc answers an offset of -1) and no item is built. Before, avsc read as many items as the count said,
 * past the end of the record: a 66-byte ItemChange whose tags said 2^31 - 1 items filled an array until the
 * topology thread's heap ran out, which ended the whole process.
 */
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { boundAvroBlocks } from '../../streams/schemas/avro-block-bounds.ts';
import { Counted } from '../support/avro-types.ts';

function varlong(n: number): Buffer {
  const out: number[] = [];
  for (let v = n < 0 ? -2 * n - 1 : 2 * n; ; v = Math.floor(v / 128)) {
    if (v < 128) return Buffer.from([...out, v]);
    out.push((v % 128) | 0x80);
  }
}

describe('Avro block bounds', () => {
  boundAvroBlocks();
  const schema = {
    type: 'record',
    name: 'Row',
    fields: [
      { name: 'xs', type: { type: 'array', items: { type: 'string', logicalType: 'counted' } } },
      { name: 'm', type: { type: 'map', values: { type: 'string', logicalType: 'counted' } } },
    ],
  };
  const type = avro.Type.forSchema(schema as never, { logicalTypes: { counted: Counted } as never });

  it('reads arrays and maps that fit, in one block or several, and with block sizes', () => {
    const whole = type.toBuffer({ xs: ['a', 'b', 'c'], m: { k: 'v' } });
    expect(type.fromBuffer(whole)).toEqual({ xs: ['a', 'b', 'c'], m: { k: 'v' } });
    // xs as two blocks, the second with its byte size (a negative count), then m empty.
    const blocks = Buffer.concat([
      varlong(1),
      Buffer.from([2, 0x61]),
      varlong(-2),
      varlong(4),
      Buffer.from([2, 0x62, 2, 0x63]),
      varlong(0),
      varlong(0),
    ]);
    expect(type.fromBuffer(blocks)).toEqual({ xs: ['a', 'b', 'c'], m: {} });
  });

  it('reads no item of a block that says more items than the record has bytes', () => {
    Counted.built = 0;
    for (const body of [
      Buffer.concat([varlong(1_000_000), Buffer.from([0, 0])]), // xs: a million items in 2 bytes
      Buffer.concat([varlong(0), varlong(1_000_000), Buffer.from([0, 0])]), // m: a million entries
      Buffer.concat([varlong(-1_000_000), varlong(2), Buffer.from([0, 0])]), // a sized block of a million
      Buffer.concat([varlong(-1), varlong(-3), Buffer.from([0, 0])]), // a negative block size
    ]) {
      expect(type.decode(body).offset, body.toString('hex')).toBe(-1);
    }
    expect(Counted.built).toBe(0);
    // Skipped as a field the reader does not have, the same blocks end the read as cut short.
    const reader = avro.Type.forSchema({ type: 'record', name: 'Row', fields: [] } as never);
    const resolver = reader.createResolver(type);
    expect(
      reader.decode(Buffer.concat([varlong(-1), varlong(-3), Buffer.from([0, 0])]), 0, resolver).offset,
    ).toBe(-1);
    expect(reader.decode(Buffer.concat([varlong(1_000_000), Buffer.from([0, 0])]), 0, resolver).offset).toBe(
      -1,
    );
  });

  it('reads a map entry named __proto__ as an entry, not as the map prototype', () => {
    const type = avro.Type.forSchema({ type: 'map', values: 'string' });
    const bytes = Buffer.concat([
      varlong(2),
      varlong(9),
      Buffer.from('__proto__'),
      varlong(1),
      Buffer.from('x'),
      varlong(1),
      Buffer.from('a'),
      varlong(1),
      Buffer.from('b'),
      varlong(0),
    ]);
    const map = type.fromBuffer(bytes) as Record<string, unknown>;
    expect(Object.getPrototypeOf(map)).toBe(Object.prototype);
    expect(Object.keys(map)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(map, '__proto__')?.value).toBe('x');
  });
});
