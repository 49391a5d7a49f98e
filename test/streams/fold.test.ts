import { describe, expect, it } from 'vitest';
import { MAX_ROW_CHARS } from '../../src/domain/limits.ts';
import { foldItemChanges, foldUserChanges } from '../../streams/fold/cdc.ts';
import { foldClickstream } from '../../streams/fold/clickstream.ts';
import { addObservation, decayedCtr, decayFactor, decayTo, mergeDecayed } from '../../streams/fold/decay.ts';
import { examinationProbability, examinationTable } from '../../streams/fold/position-bias.ts';
import type { ClickstreamEvent, ItemRow, UserChange } from '../../streams/schemas/index.ts';
import { validateRecord } from '../../streams/validate/events.ts';
import { generateClickstream } from './support/events.ts';

const H = 1000;

describe('decay', () => {
  it('halves a count over one half-life', () => {
    expect(decayFactor(H, H)).toBe(0.5);
    expect(decayTo({ value: 8, at: 0 }, 3 * H, H)).toBe(1);
    expect(decayFactor(-5, H)).toBe(1);
  });

  it('merges decayed counts independently of the order of observations', () => {
    const times = [0, 700, 250, 3000, 1200, 1200, 90];
    const forward = { value: 0, at: 0 };
    for (const t of times) addObservation(forward, t, 1, H);
    const backward = { value: 0, at: 0 };
    for (const t of [...times].reverse()) addObservation(backward, t, 1, H);
    const direct = times.reduce((s, t) => s + 2 ** (-(3000 - t) / H), 0);
    expect(forward.at).toBe(3000);
    expect(forward.value).toBeCloseTo(direct, 12);
    expect(backward.value).toBeCloseTo(direct, 12);
    const merged = mergeDecayed({ value: 1, at: 0 }, { value: 1, at: H }, H);
    expect(merged).toEqual({ value: 1.5, at: H });
  });

  it('gives the click-through rate of decayed counts', () => {
    expect(decayedCtr({ value: 1, at: 0 }, { value: 4, at: 0 }, 5 * H, H)).toBeCloseTo(0.25, 12);
    expect(decayedCtr({ value: 0, at: 0 }, { value: 0, at: 0 }, 0, H)).toBe(0);
  });
});

describe('position bias', () => {
  it('is off by default and a power law of the slot when on', () => {
    expect(examinationTable({ enabled: false, eta: 1, examination: [] })).toBeUndefined();
    expect(examinationProbability(undefined, 7)).toBe(1);
    const table = examinationTable({ enabled: true, eta: 1, examination: [] });
    expect(examinationProbability(table, 0)).toBe(1);
    expect(examinationProbability(table, 3)).toBe(0.25);
    const explicit = examinationTable({ enabled: true, eta: 1, examination: [1, 0.6, 0.3] });
    expect(examinationProbability(explicit, 9)).toBe(0.3);
  });
});

describe('foldClickstream', () => {
  const imp = (
    requestId: string,
    itemId: string,
    slot: number,
    segment: string | null,
    t: number,
  ): ClickstreamEvent => ({
    type: 'Impression',
    event: {
      eventId: `${requestId}${itemId}`,
      requestId,
      userId: 'u',
      itemId,
      slot,
      policy: 'p',
      modelVersion: 'm',
      propensity: 1,
      score: null,
      experiment: null,
      variant: null,
      segment,
      context: null,
      timestamp: t,
    },
  });
  const click = (
    requestId: string,
    itemId: string,
    t: number,
    segment: string | null = null,
  ): ClickstreamEvent => ({
    type: 'Click',
    event: {
      eventId: `c${requestId}${itemId}${t}`,
      requestId,
      userId: 'u',
      itemId,
      slot: null,
      segment,
      timestamp: t,
    },
  });

  it('folds a batch into one delta per arm, item and user', () => {
    const delta = foldClickstream(
      [
        imp('r1', 'a', 0, 'tv', 10),
        imp('r1', 'b', 1, 'tv', 10),
        click('r1', 'b', 20),
        click('r0', 'a', 30),
        {
          type: 'Conversion',
          event: { eventId: 'x', requestId: 'r1', userId: 'u', itemId: 'b', value: 2.5, timestamp: 40 },
        },
        {
          type: 'Watch',
          event: { eventId: 'w', requestId: 'r1', userId: 'u', itemId: 'b', watchTimeMs: 900, timestamp: 35 },
        },
      ],
      { halfLifeMs: H, recentClicks: 5 },
    );
    expect(delta.events).toBe(6);
    expect(Object.fromEntries([...delta.arms].map(([k, a]) => [k, [a.imp, a.clk]]))).toEqual({
      'a|*': [1, 1],
      'a|tv': [1, 0],
      'b|*': [1, 1],
      'b|tv': [1, 1],
    });
    // The click on a in r0 has no impression in the batch: the script resolves it.
    expect(delta.lookups).toEqual([{ userId: 'u', requestId: 'r0', itemId: 'a', segment: '' }]);
    const b = delta.items.get('b')!;
    expect([b.imp, b.clk, b.conv, b.convValue, b.watchMs, b.seen]).toEqual([1, 1, 1, 2.5, 900, 40]);
    expect(b.decayAt).toBe(20);
    expect(b.decayImp).toBeCloseTo(2 ** (-10 / H), 12);
    expect(b.decayClk).toBe(1);
    const u = delta.users.get('u')!;
    expect([u.imp, u.clk, u.conv, u.watchMs, u.lastActive]).toEqual([2, 2, 1, 900, 40]);
    expect(u.recent).toEqual(['b', 'a']);
    expect(delta.requests.get('u|r1')).toEqual(
      new Map([
        ['a', '0|tv'],
        ['b', '1|tv'],
      ]),
    );
  });

  it('keeps each recently clicked item once, newest last, at most K', () => {
    const delta = foldClickstream(
      ['a', 'b', 'a', 'c', 'd'].map((item, i) => click('r', item, i)),
      { halfLifeMs: H, recentClicks: 3 },
    );
    expect(delta.users.get('u')!.recent).toEqual(['a', 'c', 'd']);
  });

  it('counts a click before its impression in the log as a lookup (an orphan if never shown before)', () => {
    const delta = foldClickstream([click('r', 'a', 1), imp('r', 'a', 0, null, 2)], {
      halfLifeMs: H,
      recentClicks: 3,
    });
    expect(delta.lookups).toHaveLength(1);
  });

  it('is additive: folding two halves and summing equals folding the whole', () => {
    const events = generateClickstream({ seed: 3, users: 5, items: 6, requests: 200 });
    const whole = foldClickstream(events, { halfLifeMs: H, recentClicks: 3 });
    const a = foldClickstream(events.slice(0, 300), { halfLifeMs: H, recentClicks: 3 });
    const b = foldClickstream(events.slice(300), { halfLifeMs: H, recentClicks: 3 });
    for (const [itemId, item] of whole.items) {
      const sum = (a.items.get(itemId)?.imp ?? 0) + (b.items.get(itemId)?.imp ?? 0);
      expect(sum).toBe(item.imp);
    }
    expect(a.events + b.events).toBe(whole.events);
  });
});

describe('CDC fold', () => {
  const source = { connector: 'postgresql', db: 'd', table: 't', ts_ms: 0, lsn: null };
  const item = (itemId: string, available = true): ItemRow => ({
    itemId,
    title: 't',
    category: 'c',
    tags: [],
    available,
    createdAt: 1,
  });

  it('upserts on create, update and snapshot read; deletes on delete; the last change of a key wins', () => {
    const delta = foldItemChanges([
      { op: 'r', before: null, after: item('a'), ts_ms: 0, source },
      { op: 'c', before: null, after: item('b'), ts_ms: 0, source },
      { op: 'd', before: item('b'), after: null, ts_ms: 0, source },
      { op: 'u', before: item('a'), after: item('a', false), ts_ms: 0, source },
      { op: 'c', before: null, after: item('c'), ts_ms: 0, source },
    ]);
    expect(delta.rows.get('b')).toBeNull();
    expect(JSON.parse(delta.rows.get('a')!)).toEqual(item('a', false));
    // An unavailable item stays in the feed with `available: false` (it keeps its counts); a deleted one is null.
    expect(delta.feed.get('a')).toEqual(item('a', false));
    expect(delta.feed.get('b')).toBeNull();
    expect(delta.feed.get('c')).toEqual(item('c'));
  });

  it('keeps user attributes from the after row', () => {
    const change: UserChange = {
      op: 'u',
      before: null,
      after: { userId: 'u', segment: 'premium', country: 'FR', subscribed: true },
      ts_ms: 0,
      source,
    };
    expect(foldUserChanges([change]).feed.get('u')).toEqual({
      userId: 'u',
      segment: 'premium',
      country: 'FR',
      subscribed: true,
    });
  });
});

describe('validateRecord', () => {
  const click = {
    eventId: 'e',
    requestId: 'r',
    userId: 'u',
    itemId: 'i',
    slot: null,
    segment: null,
    timestamp: 1,
  };

  it('accepts good records and names what is wrong with bad ones', () => {
    expect(validateRecord('clickstream', 'Click', click)).toBeUndefined();
    expect(validateRecord('clickstream', 'Click', { ...click, userId: '' })?.code).toBe(
      'CROUPIER_ERR_STREAM_MISSING_FIELD',
    );
    expect(validateRecord('clickstream', 'Click', { ...click, itemId: 'a|b' })?.code).toBe(
      'CROUPIER_ERR_STREAM_BAD_ID',
    );
    expect(validateRecord('clickstream', 'Click', { ...click, slot: -1 })?.code).toBe(
      'CROUPIER_ERR_STREAM_OUT_OF_RANGE',
    );
    expect(
      validateRecord('clickstream', 'Watch', {
        eventId: 'e',
        requestId: 'r',
        userId: 'u',
        itemId: 'i',
        watchTimeMs: -5,
        timestamp: 1,
      })?.message,
    ).toContain('watchTimeMs');
    expect(validateRecord('clickstream', 'ItemChange', {})?.code).toBe('CROUPIER_ERR_STREAM_WRONG_SCHEMA');
    expect(validateRecord('items', 'ItemChange', { op: 'u', before: null, after: null })?.code).toBe(
      'CROUPIER_ERR_STREAM_CDC_EMPTY',
    );
    expect(
      validateRecord('items', 'ItemChange', { op: 'x', before: null, after: { itemId: 'a' } })?.code,
    ).toBe('CROUPIER_ERR_STREAM_CDC_INVALID');
  });

  it('refuses a catalog or user row whose strings hold more than MAX_ROW_CHARS characters together', () => {
    const row = (title: string, tags: string[]) => ({
      itemId: 'i1',
      title,
      category: 'drama',
      tags,
      available: true,
      createdAt: 1,
    });
    const change = (after: unknown) => ({ op: 'u', before: null, after, ts_ms: 1 });
    const room = MAX_ROW_CHARS - 'i1'.length - 'drama'.length;
    expect(validateRecord('items', 'ItemChange', change(row('t'.repeat(room), [])))).toBeUndefined();
    expect(validateRecord('items', 'ItemChange', change(row('t'.repeat(room + 1), [])))).toMatchObject({
      code: 'CROUPIER_ERR_STREAM_OUT_OF_RANGE',
      message: expect.stringContaining(`ItemChange.after holds ${MAX_ROW_CHARS + 1} characters of text`),
    });
    // Tags count too, and a row of a million tags is not walked to its end.
    const manyTags = Array.from({ length: 1_000_000 }, (_, i) => `tag-${i}`);
    expect(validateRecord('items', 'ItemChange', change(row('t', manyTags)))?.message).toContain(
      `more than ${10 * MAX_ROW_CHARS}`,
    );
    const user = { userId: 'u1', segment: 's'.repeat(MAX_ROW_CHARS), country: 'FR', subscribed: true };
    expect(validateRecord('users', 'UserChange', change(user))?.code).toBe(
      'CROUPIER_ERR_STREAM_OUT_OF_RANGE',
    );
    // A delete needs only its key.
    expect(
      validateRecord('items', 'ItemChange', { op: 'd', before: row('t'.repeat(room + 1), []), after: null }),
    ).toBeUndefined();
  });
});

describe('records from the future', () => {
  const now = 1_800_000_000_000;
  const impression = (itemId: string, timestamp: number, n: number): ClickstreamEvent => ({
    type: 'Impression',
    event: {
      eventId: `e${n}`,
      requestId: `r${n}`,
      userId: 'u1',
      itemId,
      slot: 0,
      policy: 'thompson',
      modelVersion: 'm1',
      propensity: 0.5,
      score: null,
      experiment: null,
      variant: null,
      segment: null,
      context: null,
      timestamp,
      shadowPolicy: null,
      shadowSlot: null,
      shadowPropensity: null,
    },
  });

  it('decay as if at most maxFutureMs after the fold, so one far-future record does not freeze an item', () => {
    // A producer's clock a few centuries ahead (1e13 ms is inside the timestamp range), then 99 impressions now.
    const events: ClickstreamEvent[] = [
      impression('x', 1e13, 0),
      {
        type: 'Click',
        event: {
          eventId: 'c0',
          requestId: 'r0',
          userId: 'u1',
          itemId: 'x',
          slot: 0,
          segment: null,
          timestamp: 1e13,
        },
      },
    ];
    for (let i = 1; i < 100; i++) events.push(impression('x', now - i * 1000, i));
    const options = { halfLifeMs: 24 * 3600 * 1000, recentClicks: 5, now: () => now, maxFutureMs: 300_000 };
    const item = foldClickstream(events, options).items.get('x')!;
    expect([item.imp, item.clk]).toEqual([100, 1]);
    expect(item.decayAt).toBe(now + 300_000);
    // One click in 100 impressions of about the same age: the decayed rate says so, not 1 click in 1.
    expect(item.decayClk / item.decayImp).toBeCloseTo(0.01, 3);
  });

  it('are decayed at their own time when no clock is given', () => {
    const item = foldClickstream([impression('y', 1e13, 0)], { halfLifeMs: 1000, recentClicks: 5 }).items.get(
      'y',
    )!;
    expect(item.decayAt).toBe(1e13);
  });
});
