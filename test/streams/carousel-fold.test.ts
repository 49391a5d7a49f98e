/**
 * A Carousel record is folded exactly as the N Impression records that say the same: the same posteriors,
 * item and user counters, decayed counts and requests in Redis. Old Impression records keep folding as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStateWriter } from '../../src/state/writer/index.ts';
import { applyPartitionBatch } from '../../streams/apply.ts';
import type { PartitionRecord } from '../../streams/fold/partition-batch.ts';
import { examinationTable } from '../../streams/fold/position-bias.ts';
import { carouselImpressions } from '../../streams/schemas/carousel-impressions.ts';
import type { Carousel, ClickstreamEvent, Impression } from '../../streams/schemas/index.ts';
import { validateRecord } from '../../streams/validate/events.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { SAMPLE_EVENTS } from '../support/sample-events.ts';
import { compareWithReference } from './support/compare-state.ts';
import { generateClickstream, seeded } from './support/events.ts';
import { emptyReference, referenceApply } from './support/reference-fold.ts';

const HALF_LIFE = 3_600_000;
const tp = { topic: 'clickstream', partition: 1 };
let redis: TestRedis;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.close();
});

/** The events of one request each: its impressions (as one group) or one other event. */
function groupByRequest(events: ClickstreamEvent[]): ClickstreamEvent[][] {
  const groups: ClickstreamEvent[][] = [];
  for (const e of events) {
    const last = groups[groups.length - 1]?.[0];
    if (
      e.type === 'Impression' &&
      last?.type === 'Impression' &&
      last.event.requestId === e.event.requestId
    ) {
      groups[groups.length - 1].push(e);
    } else groups.push([e]);
  }
  return groups;
}

/** One request's impressions (slot order) as the Carousel that says the same. */
function asCarousel(impressions: Impression[]): Carousel {
  const first = impressions[0];
  return {
    eventId: `${first.requestId}-carousel`,
    requestId: first.requestId,
    userId: first.userId,
    policy: first.policy,
    modelVersion: first.modelVersion,
    experiment: first.experiment,
    variant: first.variant,
    segment: first.segment,
    context: first.context,
    timestamp: first.timestamp,
    shadowPolicy: null,
    featureSpecHash: null,
    items: impressions.map((i) => ({
      itemId: i.itemId,
      slot: i.slot,
      score: i.score,
      propensity: i.propensity,
      shadowSlot: null,
      shadowPropensity: null,
      features: [i.slot, 0.5],
    })),
  };
}

/** Every key under `prefix` but the offsets, stats, marker and feed, with its whole value. */
async function dumpState(prefix: string): Promise<Record<string, unknown>> {
  const keys = (await redis.client.keys(`${prefix}*`)).sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const name = key.slice(prefix.length);
    if (/:(offsets|stats|marker|feed)$/.test(name)) continue;
    const type = await redis.client.type(key);
    out[name] =
      type === 'hash'
        ? await redis.client.hgetall(key)
        : type === 'list'
          ? await redis.client.lrange(key, 0, -1)
          : type;
  }
  return out;
}

async function applyInBatches(
  prefix: string,
  batches: ClickstreamEvent[][],
  examination: readonly number[] | undefined,
): Promise<void> {
  const writer = createStateWriter({
    redis: redis.client,
    keyPrefix: prefix,
    groupId: 'g',
    changeFeedMaxLen: 1000,
    recentClicks: 3,
    halfLifeMs: HALF_LIFE,
    requestTtlSeconds: 3600,
    examination,
  });
  await writer.init();
  let offset = 0;
  let applied = -1;
  for (const batch of batches) {
    const records: PartitionRecord[] = batch.map((event) => ({ offset: offset++, kind: 'event', event }));
    const result = await applyPartitionBatch(writer, tp, 'clickstream', records, applied, {
      halfLifeMs: HALF_LIFE,
      recentClicks: 3,
      examination,
    });
    expect(result.kind).toBe('done');
    applied = result.applied;
  }
}

describe('Carousel records in the fold', () => {
  for (const [name, examination] of [
    ['position-bias model off', undefined],
    ['position-bias model on', examinationTable({ enabled: true, eta: 1, examination: [] })],
  ] as const) {
    it(`leaves the same Redis state as the N impressions they replace (${name})`, async () => {
      const groups = groupByRequest(generateClickstream({ seed: 5, users: 12, items: 10, requests: 400 }));
      // The same batch boundaries on both sides, at random places between requests.
      const rand = seeded(11);
      const asImpressions: ClickstreamEvent[][] = [];
      const asCarousels: ClickstreamEvent[][] = [];
      for (let g = 0; g < groups.length; ) {
        const n = 1 + Math.floor(rand() * 40);
        const slice = groups.slice(g, g + n);
        asImpressions.push(slice.flat());
        asCarousels.push(
          slice.map(
            (group): ClickstreamEvent =>
              group[0].type === 'Impression'
                ? { type: 'Carousel', event: asCarousel(group.map((e) => e.event as Impression)) }
                : group[0],
          ),
        );
        g += n;
      }
      expect(asCarousels.flat().filter((e) => e.type === 'Carousel').length).toBeGreaterThan(300);

      const impressionPrefix = redis.prefix();
      const carouselPrefix = redis.prefix();
      await applyInBatches(impressionPrefix, asImpressions, examination);
      await applyInBatches(carouselPrefix, asCarousels, examination);
      const impressionState = await dumpState(impressionPrefix);
      expect(Object.keys(impressionState).length).toBeGreaterThan(50);
      expect(await dumpState(carouselPrefix)).toEqual(impressionState);
    });
  }

  it('folds a log that mixes carousels and old impressions to the reference counts', async () => {
    const events = generateClickstream({ seed: 9, users: 15, items: 12, requests: 300, carouselShare: 0.5 });
    const kinds = new Set(events.map((e) => e.type));
    expect(kinds.has('Carousel') && kinds.has('Impression')).toBe(true);
    const prefix = redis.prefix();
    await applyInBatches(prefix, [events.slice(0, 200), events.slice(200)], undefined);
    const ref = emptyReference();
    const shown = new Map<string, string>();
    for (const e of events) referenceApply(ref, shown, e, 3);
    expect(await compareWithReference(redis.client, prefix, tp, ref, { halfLifeMs: HALF_LIFE })).toEqual([]);
  });

  it('reads a carousel as the impressions it replaces', () => {
    const carousel = SAMPLE_EVENTS.Carousel;
    const impressions = carouselImpressions(carousel);
    expect(impressions.map((i) => [i.itemId, i.slot, i.propensity, i.shadowSlot])).toEqual([
      ['i-3', 0, 0.5, null],
      ['i-7', 1, 0.125, 0],
    ]);
    expect(new Set(impressions.map((i) => i.eventId)).size).toBe(2);
    expect(impressions.every((i) => i.requestId === 'r-1' && i.segment === 'mobile|premium')).toBe(true);
  });

  it('dead-letters a carousel whose item is out of range or names no item', () => {
    const carousel = SAMPLE_EVENTS.Carousel;
    expect(validateRecord('clickstream', 'Carousel', carousel)).toBeUndefined();
    const badSlot = { ...carousel, items: [{ ...carousel.items[0], slot: 100 }] };
    expect(validateRecord('clickstream', 'Carousel', badSlot)).toEqual({
      code: 'CROUPIER_ERR_STREAM_OUT_OF_RANGE',
      message: 'Carousel.items[0].slot = 100 is not an integer in [0, 99]',
    });
    const noItem = { ...carousel, items: [{ ...carousel.items[1], itemId: '' }] };
    expect(validateRecord('clickstream', 'Carousel', noItem)?.code).toBe('CROUPIER_ERR_STREAM_MISSING_FIELD');
    const zeroPropensity = { ...carousel, items: [{ ...carousel.items[0], propensity: 0 }] };
    expect(validateRecord('clickstream', 'Carousel', zeroPropensity)?.message).toContain(
      'Carousel.items[0].propensity',
    );
    expect(validateRecord('items', 'Carousel', carousel)?.code).toBe('CROUPIER_ERR_STREAM_WRONG_SCHEMA');
  });
});
