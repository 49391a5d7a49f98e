import { describe, expect, it } from 'vitest';
import { CroupierError } from '../../src/errors/index.ts';
import { loadFeatureSpec, parseFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { FeatureAssembler } from '../../src/scoring/features.ts';
import { features, item, memoryView, NOW, user } from './support.ts';

const spec = await loadFeatureSpec('models/feature-spec.json');

function column(name: string): number {
  const index = spec.columns.indexOf(name);
  if (index < 0) throw new Error(`no column ${name}`);
  return index;
}

describe('feature spec', () => {
  it('expands one-hot groups into named columns in spec order', () => {
    expect(spec.width).toBe(spec.columns.length);
    expect(spec.columns.slice(0, 4)).toEqual([
      'user.log1p_impressions',
      'user.log1p_clicks',
      'user.ctr',
      'user.known',
    ]);
    expect(spec.columns).toContain('user.segment=premium');
    expect(spec.columns).toContain('item.category=other');
    expect(spec.columns).toContain('context.device=tv');
    expect(spec.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('hashes the content, not the formatting or key order', async () => {
    const raw = JSON.parse(
      await import('node:fs/promises').then((fs) => fs.readFile('models/feature-spec.json', 'utf8')),
    );
    const reordered = {
      features: raw.features,
      output: raw.output,
      input: raw.input,
      version: raw.version,
      name: raw.name,
    };
    expect(parseFeatureSpec(reordered).hash).toBe(spec.hash);
    expect(parseFeatureSpec({ ...raw, version: 2 }).hash).not.toBe(spec.hash);
  });

  it('rejects a spec with a duplicate feature, naming where', () => {
    const bad = {
      name: 'x',
      version: 1,
      features: [
        { name: 'a.b', kind: 'flag', source: 'user.known' },
        { name: 'a.b', kind: 'flag', source: 'user.known' },
      ],
    };
    expect(() => parseFeatureSpec(bad)).toThrowError(CroupierError);
    expect(() => parseFeatureSpec(bad)).toThrowError(/features\.1\.name: duplicate feature name/);
  });
});

describe('feature matrix', () => {
  it('matches the spec for a known state', () => {
    const items = [item('a', 'movies', 9), item('b', 'poetry', 0), item('c', 'news', 3)];
    const view = memoryView({
      items,
      features: new Map([
        ['a', features(99, 9, 0.08)],
        ['b', features(0, 0, 0)],
      ]),
      users: new Map([
        [
          'u1',
          user('u1', {
            segment: 'premium',
            subscribed: true,
            impressions: 19,
            clicks: 3,
            recent: ['a', 'c', 'gone'],
          }),
        ],
      ]),
    });
    const assembler = new FeatureAssembler(spec, 1);
    const m = assembler.assemble(
      view,
      items,
      3,
      view.user('u1'),
      { device: 'tv', country: 'DE', page: null },
      NOW,
    );
    const w = spec.width;
    const at = (row: number, name: string): number => m[row * w + column(name)];
    for (let r = 0; r < 3; r++) {
      expect(at(r, 'user.log1p_impressions')).toBeCloseTo(Math.log(20), 5);
      expect(at(r, 'user.log1p_clicks')).toBeCloseTo(Math.log(4), 5);
      expect(at(r, 'user.ctr')).toBeCloseTo((3 + 1) / (19 + 20), 6);
      expect(at(r, 'user.known')).toBe(1);
      expect(at(r, 'user.segment=premium')).toBe(1);
      expect(at(r, 'user.segment=new') + at(r, 'user.segment=casual') + at(r, 'user.segment=other')).toBe(0);
      expect(at(r, 'user.subscribed')).toBe(1);
      expect(at(r, 'context.device=tv')).toBe(1);
      expect(at(r, 'context.device=other')).toBe(0);
    }
    // Item a: seen, movies, 9 days old, in the user's recent clicks.
    expect(at(0, 'item.decayed_ctr')).toBeCloseTo(0.08, 6);
    expect(at(0, 'item.ctr_logit')).toBeCloseTo(Math.log(10 / 119 / (1 - 10 / 119)), 5);
    expect(at(0, 'item.log1p_impressions')).toBeCloseTo(Math.log(100), 5);
    expect(at(0, 'item.log1p_age_days')).toBeCloseTo(Math.log(10), 5);
    expect(at(0, 'item.category=movies')).toBe(1);
    expect(at(0, 'affinity.recent_item')).toBe(1);
    // Recent clicks in the pool: a (movies) and c (news); 'gone' is not in the pool.
    expect(at(0, 'affinity.recent_category_share')).toBeCloseTo(0.5, 6);
    // Item b: never seen, unknown category, brand new.
    expect(at(1, 'item.decayed_ctr')).toBe(0);
    expect(at(1, 'item.ctr_logit')).toBeCloseTo(Math.log(1 / 19), 5);
    expect(at(1, 'item.log1p_age_days')).toBe(0);
    expect(at(1, 'item.category=other')).toBe(1);
    expect(at(1, 'affinity.recent_item')).toBe(0);
    expect(at(1, 'affinity.recent_category_share')).toBe(0);
    expect(at(2, 'item.category=news')).toBe(1);
    // Every one-hot group sets exactly one column per row.
    for (let r = 0; r < 3; r++) {
      let categories = 0;
      for (const name of spec.columns) if (name.startsWith('item.category=')) categories += at(r, name);
      expect(categories).toBe(1);
    }
  });

  it('writes neutral user columns for an unknown user and reuses the buffer when it fits', () => {
    const items = [item('a')];
    const view = memoryView({ items });
    const assembler = new FeatureAssembler(spec, 4);
    const first = assembler.assemble(
      view,
      items,
      1,
      undefined,
      { device: null, country: null, page: null },
      NOW,
    );
    expect(first[column('user.known')]).toBe(0);
    expect(first[column('user.segment=other')]).toBe(1);
    expect(first[column('context.device=other')]).toBe(1);
    expect(first[column('user.ctr')]).toBeCloseTo(1 / 20, 6);
    const second = assembler.assemble(
      view,
      items,
      1,
      undefined,
      { device: 'mobile', country: null, page: null },
      NOW,
    );
    expect(second).toBe(first);
    expect(second[column('context.device=mobile')]).toBe(1);
    expect(second[column('context.device=other')]).toBe(0);
  });
});
