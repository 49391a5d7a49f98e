import { describe, expect, it } from 'vitest';
import { CroupierError } from '../../src/errors/index.ts';
import { parseFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { FeatureAssembler } from '../../src/scoring/features.ts';
import { features, item, memoryView, NOW, user } from '../decision/support.ts';

/** A user group, an item group, and their cross between two other columns. */
const spec = parseFeatureSpec({
  name: 'cross',
  version: 1,
  features: [
    { name: 'user.segment', kind: 'onehot', source: 'user.segment', values: ['a', 'b'], other: true },
    { name: 'item.ctr_logit', kind: 'ctr_logit', source: 'item' },
    { name: 'item.category', kind: 'onehot', source: 'item.category', values: ['x', 'y'], other: false },
    { name: 'cross.segment_category', kind: 'cross', features: ['user.segment', 'item.category'] },
    { name: 'user.known', kind: 'flag', source: 'user.known' },
  ],
});
const CROSS = spec.columns.indexOf('cross.segment_category=a&x');

describe('cross features', () => {
  it('expand to one column per pair of the columns of the two groups, the second group fastest', () => {
    expect(spec.columns.slice(CROSS, CROSS + 6)).toEqual([
      'cross.segment_category=a&x',
      'cross.segment_category=a&y',
      'cross.segment_category=b&x',
      'cross.segment_category=b&y',
      'cross.segment_category=other&x',
      'cross.segment_category=other&y',
    ]);
    expect(spec.columns[CROSS + 6]).toBe('user.known');
    expect(spec.width).toBe(3 + 1 + 2 + 6 + 1);
  });

  it('set the column of the pair each row has, other included, and none when a group has no column', () => {
    const items = [item('i1', 'y'), item('i2', 'x'), item('i3', 'poetry')];
    const view = memoryView({ items, features: new Map([['i1', features(100, 10)]]) });
    const assembler = new FeatureAssembler(spec);
    const context = { device: null, country: null, page: null };
    const crossOf = (segment: string | null) => {
      const m = assembler.assemble(view, items, 3, user('u', { segment }), context, NOW);
      return [0, 1, 2].map((r) => Array.from(m.subarray(r * spec.width + CROSS, r * spec.width + CROSS + 6)));
    };
    expect(crossOf('b')).toEqual([
      [0, 0, 0, 1, 0, 0],
      [0, 0, 1, 0, 0, 0],
      [0, 0, 0, 0, 0, 0], // 'poetry' has no column: item.category lists no `other`
    ]);
    // The same assembler, the next request: a segment the spec does not list falls on `other`.
    expect(crossOf('zzz')).toEqual([
      [0, 0, 0, 0, 0, 1],
      [0, 0, 0, 0, 1, 0],
      [0, 0, 0, 0, 0, 0],
    ]);
    expect(crossOf('a')[1]).toEqual([1, 0, 0, 0, 0, 0]);
  });

  it('refuse a cross of a feature that is not a one-hot group listed before it, naming where', () => {
    const bad = (features: unknown[]) => () => parseFeatureSpec({ name: 'x', version: 1, features });
    const segment = { name: 'user.segment', kind: 'onehot', source: 'user.segment', values: ['a'] };
    const known = { name: 'user.known', kind: 'flag', source: 'user.known' };
    const cross = { name: 'c.x', kind: 'cross', features: ['user.segment', 'user.known'] };
    expect(bad([segment, known, cross])).toThrowError(CroupierError);
    expect(bad([segment, known, cross])).toThrowError(
      /features\.2\.features\.1: 'user\.known' is not a one-hot feature listed before this cross/,
    );
    expect(bad([cross, segment, known])).toThrowError(/features\.0\.features\.0/);
    expect(bad([segment, { ...cross, features: ['user.segment', 'user.segment'] }])).toThrowError(
      /crossed with itself/,
    );
  });

  it('refuse a spec whose groups and crosses expand past the column limit, naming the widest', () => {
    const values = Array.from({ length: 1000 }, (_, i) => `v${i}`);
    const group = (name: string, source: string) => ({ name, kind: 'onehot', source, values });
    expect(() =>
      parseFeatureSpec({
        name: 'x',
        version: 1,
        features: [
          group('user.segment', 'user.segment'),
          group('item.category', 'item.category'),
          { name: 'c.x', kind: 'cross', features: ['user.segment', 'item.category'] },
        ],
      }),
    ).toThrowError(
      /expands to 1004003 columns, more than 4096 \(the widest, features\.2 'c\.x', has 1002001\)/,
    );
  });
});
