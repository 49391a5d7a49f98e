/**
 * What reading a record of another writer's schema may cost: a schema whose named types expand into more types than
 * a record's bytes could hold is refused, and a record is read no further than its bytes. Before, a Click writer
 * schema of a few KB whose `pad` expanded into 10^13 ints held the topology and archive threads for good on a
 * 41-byte record.
 */
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { boundAvroBlocks } from '../../streams/schemas/avro-block-bounds.ts';
import { readSchemaText, SCHEMA_NAMES } from '../../streams/schemas/index.ts';
import { costlyReadPath, decodeBounded } from '../../streams/schemas/writer-read-cost.ts';
import { Counted, nestedRecords as nested } from '../support/avro-types.ts';

const clickWith = (fields: unknown[]) => {
  const click = JSON.parse(readSchemaText('Click'));
  return avro.Type.forSchema({ ...click, fields: [...click.fields, ...fields] });
};

describe('writer schema read cost', () => {
  it('passes the contracts and schemas that evolve as schemas do', () => {
    for (const name of SCHEMA_NAMES) {
      expect(costlyReadPath(avro.Type.forSchema(JSON.parse(readSchemaText(name)))), name).toBeNull();
    }
    const address = {
      type: 'record',
      name: 'Address',
      fields: [
        { name: 'street', type: 'string' },
        { name: 'geo', type: { type: 'record', name: 'Geo', fields: [{ name: 'lat', type: 'double' }] } },
      ],
    };
    const evolved = [
      { name: 'home', type: ['null', address], default: null },
      ...Array.from({ length: 200 }, (_, i) => ({
        name: `opt${i}`,
        type: ['null', 'Address'],
        default: null,
      })),
      { name: 'tags', type: { type: 'map', values: { type: 'array', items: 'string' } }, default: {} },
      {
        name: 'next',
        type: ['null', { type: 'record', name: 'Node', fields: [{ name: 'up', type: ['null', 'Node'] }] }],
      },
      { name: 'at', type: { type: 'long', logicalType: 'timestamp-micros' }, default: 0 },
    ];
    expect(costlyReadPath(clickWith(evolved))).toBeNull();
  });

  it('refuses a schema whose named types expand past what its bytes could hold', () => {
    expect(costlyReadPath(clickWith([{ name: 'pad', type: nested(12, 'int') }]))).toBe(
      'pad: 1.1e+13 types to read at least 1.0e+13 bytes',
    );
    // Types that take no bytes: 11,119 types to read 7 bytes of Click.
    expect(costlyReadPath(clickWith([{ name: 'pad', type: nested(3, 'null') }]))).toBe(
      'pad: 11119 types to read at least 7 bytes',
    );
    // Few types, but 40 of them per byte, as an array's item.
    expect(
      costlyReadPath(
        clickWith([{ name: 'pads', type: { type: 'array', items: nested(0, 'null', false, 39) } }]),
      ),
    ).toBe('pads[]: 40 types to read at least 0 bytes');
    // A record that holds itself outside any union has no finite value.
    const loop = { type: 'record', name: 'Loop', fields: [{ name: 'again', type: 'Loop' }] };
    expect(costlyReadPath(clickWith([{ name: 'loop', type: loop }]))).toBe(
      'loop: Infinity types to read at least 7 bytes',
    );
  });

  it('reads no further than the record has bytes', () => {
    boundAvroBlocks();
    // A value of a few types, but through unions 10^5 ints deep: past the end of a record, avsc reads branch 0
    // and an int from each zero it finds there.
    const schema = nested(4, { type: 'int', logicalType: 'counted' }, true);
    const reader = avro.Type.forSchema(schema as avro.Schema, { logicalTypes: { counted: Counted } });
    const writer = avro.Type.forSchema(schema as avro.Schema, { logicalTypes: { counted: Counted } });
    expect(costlyReadPath(writer)).toBeNull();
    const resolver = reader.createResolver(writer);
    const record = Buffer.from([0, 0, 0]); // branch 0, branch 0, branch 0: cut short.

    Counted.built = 0;
    expect(decodeBounded(reader, record, 0, resolver).offset).toBe(-1);
    expect(Counted.built).toBe(0);

    Counted.built = 0;
    expect(reader.decode(record, 0, resolver).offset).toBe(-1);
    expect(Counted.built).toBe(100_000); // avsc's own read, for comparison: every int of R0, 10^4 times
  });
});
