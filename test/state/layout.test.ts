import { describe, expect, it } from 'vitest';
import {
  clickClaimKey,
  clickstreamFeedDataSchema,
  itemsFeedDataSchema,
  legacyRequestKey,
  partitionKey,
  recentKey,
  requestKey,
  userKey,
  usersFeedDataSchema,
} from '../../src/state/layout/index.ts';
import { cdcFeedEntry } from '../../src/state/writer/payload.ts';
import { SCRIPT_KEYS, scriptKeys } from '../../src/state/writer/script-keys.ts';

const tp = { topic: 'clickstream', partition: 3 };

describe('key table', () => {
  it('names every key of a partition under its hash tag, as docs/state-layout.md does', () => {
    expect(partitionKey('P:', tp, 'posterior')).toBe('P:{clickstream:3}:posterior');
    expect(partitionKey('P:', { topic: 'cdc.items', partition: 0 }, 'items')).toBe('P:{cdc.items:0}:items');
    expect(userKey('P:', tp, 'u1')).toBe('P:{clickstream:3}:user:u1');
    expect(recentKey('P:', tp, 'u1')).toBe('P:{clickstream:3}:recent:u1');
    expect(requestKey('P:', tp, 'u1', 'r1')).toBe('P:{clickstream:3}:req:u1|r1');
    expect(legacyRequestKey('P:', tp, 'r1')).toBe('P:{clickstream:3}:req:r1');
    expect(clickClaimKey('P:', tp, 'r1')).toBe('P:{clickstream:3}:clk:r1');
  });

  it("builds each writer script's KEYS from the table, all in the partition's slot", () => {
    expect(scriptKeys('P:', tp, 'applyClickstream')).toEqual([
      'P:{clickstream:3}:offsets',
      'P:{clickstream:3}:stats',
      'P:{clickstream:3}:feed',
      'P:{clickstream:3}:posterior',
      'P:{clickstream:3}:item',
      'P:{clickstream:3}:marker',
    ]);
    for (const script of Object.keys(SCRIPT_KEYS) as (keyof typeof SCRIPT_KEYS)[]) {
      const keys = scriptKeys('P:', { topic: 't', partition: 1 }, script);
      expect(keys).toHaveLength(SCRIPT_KEYS[script].length);
      for (const key of keys) expect(key.startsWith('P:{t:1}:')).toBe(true);
    }
  });
});

describe('change-feed entry', () => {
  it('reads a clickstream entry as docs/state-layout.md writes it, keeping only the fields a batch changed', () => {
    const d = {
      posterior: { 'a|mobile|premium': [4, 1] },
      item: { a: { imp: 4, clk: 1, seen: 1700000000000 } },
      user: { u1: { clk: 1, lastActive: 1700000000000, recent: ['a'] }, u2: null },
    };
    const parsed = clickstreamFeedDataSchema.parse(JSON.parse(JSON.stringify(d)));
    expect(parsed).toEqual(d);
    expect(clickstreamFeedDataSchema.parse({})).toEqual({ posterior: {}, item: {}, user: {} });
  });

  it('refuses a clickstream entry whose values are not what the layout says', () => {
    expect(clickstreamFeedDataSchema.safeParse({ posterior: { 'a|*': [1] } }).success).toBe(false);
    expect(clickstreamFeedDataSchema.safeParse({ item: { a: { imp: '4' } } }).success).toBe(false);
    expect(clickstreamFeedDataSchema.safeParse({ user: { u1: { recent: 'a' } } }).success).toBe(false);
  });

  it("reads the writer's CDC entries with the reader's schemas", () => {
    const row = { itemId: 'a', title: 'A', category: 'c', tags: [], available: true, createdAt: 1 };
    const items = JSON.parse(
      cdcFeedEntry('items', {
        events: 2,
        rows: new Map(),
        feed: new Map([
          ['a', row],
          ['b', null],
        ]),
      }),
    );
    expect(itemsFeedDataSchema.parse(items)).toEqual({ items: { a: row, b: null } });
    const user = { userId: 'u1', segment: 's', country: 'FR', subscribed: true };
    const users = JSON.parse(
      cdcFeedEntry('users', { events: 1, rows: new Map(), feed: new Map([['u1', user]]) }),
    );
    expect(usersFeedDataSchema.parse(users)).toEqual({ users: { u1: user } });
  });
});
