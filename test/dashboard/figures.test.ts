/** The dashboard's pure parts: quantiles from buckets, posterior leaders, and live experiment counts. */
import { describe, expect, it } from 'vitest';
import { BucketWindow, bucketQuantile } from '../../src/dashboard/bucket-window.ts';
import { ClickstreamTally } from '../../src/dashboard/clickstream-tally.ts';
import { experimentFigures } from '../../src/dashboard/experiment-rows.ts';
import { segmentLeaders } from '../../src/dashboard/posterior-leaders.ts';
import type { ItemInfo } from '../../src/domain/decision.ts';

const BOUNDS = [1, 2, 4, 8];

describe('bucket quantiles', () => {
  it('interpolates within the bucket that holds the rank, as histogram_quantile does', () => {
    const buckets = { bounds: BOUNDS, counts: [0, 10, 10, 0], sum: 0, count: 20 };
    expect(bucketQuantile(buckets, 0.5)).toBeCloseTo(2);
    expect(bucketQuantile(buckets, 0.25)).toBeCloseTo(1.5);
    expect(bucketQuantile(buckets, 0.75)).toBeCloseTo(3);
  });

  it('says the last bound when the quantile lies above every bucket, and null without values', () => {
    expect(bucketQuantile({ bounds: BOUNDS, counts: [1, 0, 0, 0], sum: 0, count: 100 }, 0.99)).toBe(8);
    expect(bucketQuantile({ bounds: BOUNDS, counts: [0, 0, 0, 0], sum: 0, count: 0 }, 0.5)).toBeNull();
  });

  it('reads only the values of the last `size` snapshots', () => {
    const window = new BucketWindow(2);
    window.push({ bounds: BOUNDS, counts: [100, 0, 0, 0], sum: 0, count: 100 });
    window.push({ bounds: BOUNDS, counts: [100, 0, 0, 0], sum: 0, count: 100 });
    const last = window.push({ bounds: BOUNDS, counts: [100, 0, 5, 0], sum: 0, count: 105 });
    expect(last.count).toBe(5);
    const recent = window.push({ bounds: BOUNDS, counts: [100, 0, 5, 0], sum: 0, count: 105 });
    // The first snapshot left the window: its 100 values are no longer read.
    expect(recent.counts).toEqual([0, 0, 5, 0]);
  });
});

describe('posterior leaders', () => {
  const items: ItemInfo[] = ['a', 'b', 'c', 'd'].map((itemId) => ({
    itemId,
    title: itemId.toUpperCase(),
    category: 'x',
    tags: [],
    available: true,
    createdAt: 0,
  }));
  const counts: Record<string, [number, number]> = { a: [100, 50], b: [100, 10], c: [2, 2], d: [0, 0] };
  const arm = (itemId: string) => ({ impressions: counts[itemId][0], clicks: counts[itemId][1] });

  it('ranks shown items by posterior mean and by the width of their belief, with 95 % intervals', () => {
    const leaders = segmentLeaders(items, arm, '*', 2);
    expect(leaders.shown).toBe(3);
    expect(leaders.highest.map((r) => r.itemId)).toEqual(['c', 'a']);
    expect(leaders.mostUncertain[0].itemId).toBe('c');
    const a = leaders.highest[1];
    expect(a.mean).toBeCloseTo(51 / 102);
    expect(a.low).toBeLessThan(a.mean);
    expect(a.high).toBeGreaterThan(a.mean);
    expect(a.high - a.low).toBeGreaterThan(0.15);
    expect(a.high - a.low).toBeLessThan(0.25);
  });
});

function impression(requestId: string, userId: string, variant: string, extra: Record<string, unknown> = {}) {
  return {
    topic: 'clickstream',
    timestamp: 0,
    event: {
      schemaName: 'Impression',
      value: {
        requestId,
        itemId: 'i1',
        userId,
        slot: 0,
        policy: 'thompson',
        propensity: 0.5,
        score: 0.42,
        modelVersion: 'm1',
        segment: 'mobile|casual',
        experiment: 'exp',
        variant,
        shadowPolicy: 'greedy',
        shadowSlot: variant === 'control' ? 0 : 1,
        ...extra,
      },
    },
  };
}

describe('live experiment counts', () => {
  it('joins clicks to their impressions per variant and counts users for the sample-ratio check', () => {
    const tally = new ClickstreamTally();
    for (let u = 0; u < 200; u++) {
      // One user of each variant sees many carousels: impressions are skewed, users are split evenly.
      const variant = u % 2 === 0 ? 'control' : 'treatment';
      const carousels = variant === 'control' ? 1 : 3;
      for (let c = 0; c < carousels; c++) tally.add(impression(`r${u}-${c}`, `u${u}`, variant));
    }
    tally.add({
      topic: 'clickstream',
      timestamp: 0,
      event: { schemaName: 'Click', value: { requestId: 'r0-0', itemId: 'i1', userId: 'u0' } },
    });
    tally.add({ topic: 'cdc.items', timestamp: 0 });
    const counts = tally.experimentCounts().get('exp')!;
    expect(counts.rates.get('control')).toEqual({ successes: 1, trials: 100 });
    expect(counts.rates.get('treatment')).toEqual({ successes: 0, trials: 300 });
    expect(counts.users.get('treatment')).toBe(100);
    expect(tally.recordsByTopic.get('cdc.items')).toBe(1);
    expect(tally.shadow.get('greedy')).toEqual({ slots: 400, differ: 300 });
    expect(tally.scoreBins[8]).toBe(400);

    const figures = experimentFigures('exp', counts, undefined);
    expect(figures.control).toBe('control');
    expect(figures.variants.map((v) => v.impressions)).toEqual([100, 300]);
    expect(figures.srm?.users).toEqual([100, 100]);
    expect(figures.srm?.mismatch).toBe(false);
    expect(figures.variants[1].probabilityBest).not.toBeNull();
    expect(figures.alwaysValid).not.toBeNull();
    expect(figures.verdict).not.toMatch(/ratio mismatch/i);
  });

  it('counts a Carousel record as the impressions of its shown items', () => {
    const asImpressions = new ClickstreamTally();
    const asCarousels = new ClickstreamTally();
    for (let u = 0; u < 20; u++) {
      const variant = u % 2 === 0 ? 'control' : 'treatment';
      const items = ['i1', 'i2', 'i3'].map((itemId, slot) => ({
        itemId,
        slot,
        score: 0.42,
        propensity: 0.5,
        shadowSlot: variant === 'control' ? slot : null,
        shadowPropensity: 0.5,
        features: null,
      }));
      for (const item of items) {
        const { itemId, slot, shadowSlot } = item;
        asImpressions.add(impression(`r${u}`, `u${u}`, variant, { itemId, slot, shadowSlot }));
      }
      const {
        itemId: _i,
        slot: _s,
        propensity: _p,
        score: _c,
        shadowSlot: _h,
        ...carousel
      } = impression(`r${u}`, `u${u}`, variant).event.value;
      asCarousels.add({
        topic: 'clickstream',
        timestamp: 0,
        event: { schemaName: 'Carousel', value: { ...carousel, featureSpecHash: null, items } },
      });
    }
    for (const tally of [asImpressions, asCarousels]) {
      tally.add({
        topic: 'clickstream',
        timestamp: 0,
        event: { schemaName: 'Click', value: { requestId: 'r1', itemId: 'i2', userId: 'u1' } },
      });
    }
    const counts = asCarousels.experimentCounts().get('exp')!;
    expect(counts.rates.get('treatment')).toEqual({ successes: 1, trials: 30 });
    expect(counts).toEqual(asImpressions.experimentCounts().get('exp'));
    expect(asCarousels.shadow).toEqual(asImpressions.shadow);
    expect(asCarousels.segments).toEqual(asImpressions.segments);
    expect(asCarousels.scoreBins).toEqual(asImpressions.scoreBins);
  });

  it('shows counts only while one variant has been dealt', () => {
    const tally = new ClickstreamTally();
    tally.add(impression('r1', 'u1', 'control'));
    const figures = experimentFigures('exp', tally.experimentCounts().get('exp')!, undefined);
    expect(figures.variants).toHaveLength(1);
    expect(figures.srm).toBeNull();
    expect(figures.verdict).toContain('second variant');
  });
});
