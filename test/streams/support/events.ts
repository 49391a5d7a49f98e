/**
 * A small deterministic clickstream for tests: requests that show a few items to a user, clicks on some of
 * them (and a few orphan clicks), conversions and watches. Seeded, so every run writes the same log.
 */
import type { Carousel, CarouselItem, ClickstreamEvent, Impression } from '../../../streams/schemas/index.ts';

export interface ClickstreamGenOptions {
  seed: number;
  users: number;
  items: number;
  /** Number of carousel requests; each yields its impressions and some follow-up events. */
  requests: number;
  slots?: number;
  segments?: readonly string[];
  startTime?: number;
  /** Share of requests logged as one Carousel record instead of one Impression per shown item (default 0). */
  carouselShare?: number;
}

/** mulberry32: tiny seeded PRNG, good enough for test data. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateClickstream(options: ClickstreamGenOptions): ClickstreamEvent[] {
  const rand = seeded(options.seed);
  const slots = options.slots ?? 4;
  const segments = options.segments ?? ['mobile|free', 'desktop|premium', 'tv'];
  let t = options.startTime ?? 1_700_000_000_000;
  const out: ClickstreamEvent[] = [];
  const pick = (n: number) => Math.floor(rand() * n);
  for (let r = 0; r < options.requests; r++) {
    const userId = `u${pick(options.users)}`;
    const requestId = `r${options.seed}-${r}`;
    const segment = rand() < 0.2 ? null : segments[pick(segments.length)];
    const shown: string[] = [];
    t += 1 + pick(50);
    const asCarousel = (options.carouselShare ?? 0) > 0 && rand() < (options.carouselShare ?? 0);
    const impressions: Impression[] = [];
    for (let slot = 0; slot < slots; slot++) {
      const itemId = `i${pick(options.items)}`;
      if (shown.includes(itemId)) continue;
      shown.push(itemId);
      impressions.push({
        eventId: `${requestId}-imp-${slot}`,
        requestId,
        userId,
        itemId,
        slot,
        policy: 'thompson',
        modelVersion: 'm1',
        propensity: 0.5,
        score: null,
        experiment: null,
        variant: null,
        segment,
        context: null,
        timestamp: t,
      });
    }
    if (asCarousel)
      out.push({ type: 'Carousel', event: carouselOf(requestId, userId, segment, t, impressions) });
    else for (const event of impressions) out.push({ type: 'Impression', event });
    const base = { requestId, userId };
    if (rand() < 0.35) {
      const itemId = shown[pick(shown.length)];
      out.push({
        type: 'Click',
        event: { ...base, eventId: `${requestId}-clk`, itemId, slot: null, segment: null, timestamp: t + 5 },
      });
      if (rand() < 0.3) {
        out.push({
          type: 'Conversion',
          event: { ...base, eventId: `${requestId}-conv`, itemId, value: pick(100) / 4, timestamp: t + 9 },
        });
      }
      if (rand() < 0.5) {
        out.push({
          type: 'Watch',
          event: { ...base, eventId: `${requestId}-w`, itemId, watchTimeMs: pick(60_000), timestamp: t + 7 },
        });
      }
    }
    if (rand() < 0.03) {
      out.push({
        type: 'Click',
        event: {
          ...base,
          eventId: `${requestId}-orphan`,
          requestId: `gone-${r}`,
          itemId: `i${pick(options.items)}`,
          slot: 1,
          segment: rand() < 0.5 ? 'tv' : null,
          timestamp: t + 3,
        },
      });
    }
  }
  return out;
}

/** The Carousel record that says what `impressions` (one request's, slot order) say. */
function carouselOf(
  requestId: string,
  userId: string,
  segment: string | null,
  timestamp: number,
  impressions: Impression[],
): Carousel {
  const items: CarouselItem[] = impressions.map((i) => ({
    itemId: i.itemId,
    slot: i.slot,
    score: i.score,
    propensity: i.propensity,
    shadowSlot: null,
    shadowPropensity: null,
    features: [0.25, i.slot],
  }));
  return {
    eventId: `${requestId}-carousel`,
    requestId,
    userId,
    policy: 'thompson',
    modelVersion: 'm1',
    experiment: null,
    variant: null,
    segment,
    context: null,
    timestamp,
    shadowPolicy: null,
    featureSpecHash: null,
    items,
  };
}
