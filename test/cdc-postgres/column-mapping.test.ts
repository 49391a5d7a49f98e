/** The column mapping of the PostgreSQL CDC source: pure, over table shapes as the catalog gives them. */
import { describe, expect, it } from 'vitest';
import { mapRow, resolveMapping, type TableShape } from '../../src/cdc/postgres/column-mapping.ts';

const TEXT = 25;
const BOOL = 16;
const TEXT_ARRAY = 1009;
const TIMESTAMPTZ = 1184;
const JSONB = 3802;
const INT8 = 20;

function shape(columns: [string, number][], identity: Partial<TableShape> = {}): TableShape {
  return {
    schema: 'public',
    table: 'items',
    columns: columns.map(([name, typeOid]) => ({ name, typeOid })),
    replicaIdentity: 'default',
    identityColumns: [columns[0]![0]],
    ...identity,
  };
}

const ITEMS: [string, number][] = [
  ['item_id', TEXT],
  ['title', TEXT],
  ['category', TEXT],
  ['tags', TEXT_ARRAY],
  ['available', BOOL],
  ['created_at', TIMESTAMPTZ],
  ['price', INT8],
];

describe('column mapping', () => {
  it('reads the columns named like the fields, ignores the others, and maps values to the contract', () => {
    const mapping = resolveMapping('items', shape(ITEMS));
    expect([...mapping.columns]).toEqual([
      ['itemId', 'item_id'],
      ['title', 'title'],
      ['category', 'category'],
      ['tags', 'tags'],
      ['available', 'available'],
      ['createdAt', 'created_at'],
    ]);
    expect(mapping.ignored).toEqual(['price']);
    const created = new Date('2026-03-01T00:00:00Z');
    expect(
      mapRow(mapping, {
        item_id: 'a',
        title: 'T',
        category: null,
        tags: ['x'],
        available: true,
        created_at: created,
      }),
    ).toEqual({
      itemId: 'a',
      title: 'T',
      category: '',
      tags: ['x'],
      available: true,
      createdAt: created.getTime(),
    });
  });

  it('takes configured columns over the defaults, and a numeric key as text', () => {
    const mapping = resolveMapping(
      'items',
      shape([
        ['sku', INT8],
        ['name', TEXT],
        ['category', TEXT],
        ['in_stock', BOOL],
        ['created_at', INT8],
      ]),
      { itemId: 'sku', title: 'name', available: 'in_stock' },
    );
    expect(
      mapRow(mapping, { sku: '42', name: 'N', category: 'c', in_stock: false, created_at: '1700000000000' }),
    ).toEqual({
      itemId: '42',
      title: 'N',
      category: 'c',
      tags: [],
      available: false,
      createdAt: 1_700_000_000_000,
    });
  });

  it('refuses a field without a column, a configured column that is gone, an unknown field and a wrong type', () => {
    expect(() => resolveMapping('items', shape(ITEMS.filter(([c]) => c !== 'category')))).toThrow(
      /no column for items' category .*category.*set cdc\.columns\.items\.category/,
    );
    expect(() => resolveMapping('items', shape(ITEMS), { title: 'name' })).toThrow(
      /column name of public\.items \(cdc\.columns\.items\.title\) does not exist/,
    );
    expect(() => resolveMapping('items', shape(ITEMS), { price: 'price' })).toThrow(
      /items rows have no field price/,
    );
    expect(() =>
      resolveMapping(
        'items',
        shape(ITEMS.map(([c, t]) => [c, c === 'available' ? JSONB : t] as [string, number])),
      ),
    ).toThrow(/column available of public\.items .* cannot hold items' available: expected boolean/);
  });

  it('refuses for a string field the types the driver reads as arrays or objects, before any value', () => {
    const titleOf = (typeOid: number, typeCategory?: string): TableShape => {
      const base = shape(ITEMS);
      return {
        ...base,
        columns: base.columns.map((c) =>
          c.name === 'title' ? { name: 'title', typeOid, ...(typeCategory ? { typeCategory } : {}) } : c,
        ),
      };
    };
    // interval, point and circle by their oids (a relation message gives no category); an int4[] and a
    // user-defined array type by the catalog's category.
    for (const [oid, category] of [
      [1186],
      [600],
      [718],
      [1007, 'A'],
      [99_999, 'A'],
      [99_998, 'G'],
    ] as const) {
      expect(() => resolveMapping('items', titleOf(oid, category)), `${oid}`).toThrow(
        /column title of public\.items \(type oid \d+\) cannot hold items' title: expected a text-like or numeric type/,
      );
    }
    // Text-like and numeric types, and a user-defined string type (citext's category), are taken.
    for (const [oid, category] of [
      [25, 'S'],
      [1043, 'S'],
      [1700, 'N'],
      [2950, 'U'],
      [99_997, 'S'],
    ] as const)
      expect(resolveMapping('items', titleOf(oid, category)).columns.get('title')).toBe('title');
  });

  it('refuses a table whose deletes would not carry the key, naming the fix', () => {
    const noKey = () => resolveMapping('items', shape(ITEMS, { identityColumns: [] }));
    expect(noKey).toThrow(/public\.items has no primary key/);
    expect(noKey).toThrow(/ALTER TABLE public\.items ADD PRIMARY KEY \(item_id\)/);
    // REPLICA IDENTITY NOTHING on a table with a primary key: the fix is the identity, not a key.
    const nothing = () =>
      resolveMapping('items', shape(ITEMS, { replicaIdentity: 'nothing', identityColumns: [] }));
    expect(nothing).toThrow(/public\.items has REPLICA IDENTITY NOTHING.*REPLICA IDENTITY DEFAULT/);
    expect(nothing).not.toThrow(/ADD PRIMARY KEY/);
    const otherKey = () => resolveMapping('items', shape(ITEMS, { identityColumns: ['title'] }));
    expect(otherKey).toThrow(/identifies its rows by title, not by item_id.*REPLICA IDENTITY FULL/);
    expect(
      resolveMapping(
        'items',
        shape(ITEMS, { replicaIdentity: 'full', identityColumns: ITEMS.map(([c]) => c) }),
      ).fullBefore,
    ).toBe(true);
  });

  it('stops on a value the field cannot hold, naming the column', () => {
    const mapping = resolveMapping('items', shape(ITEMS));
    expect(() =>
      mapRow(mapping, {
        item_id: 'a',
        title: 'T',
        category: 'c',
        tags: [],
        available: true,
        created_at: 'soon',
      }),
    ).toThrow(/column created_at of public\.items holds "soon"/);
  });
});
