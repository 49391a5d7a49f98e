/**
 * An independent reference of what Redis must hold after a partition's events are applied, computed one
 * event at a time in the most direct way (no batching, no deltas), for comparison with the real state.
 */
import { examinationProbability } from '../../../streams/fold/position-bias.ts';
import { carouselImpressions } from '../../../streams/schemas/carousel-impressions.ts';
import type { ClickstreamEvent } from '../../../streams/schemas/index.ts';

export interface ReferenceState {
  /** `imp|<itemId>|<segment>` / `clk|...` → count. */
  posterior: Map<string, number>;
  /** `<field>|<itemId>` → value, for imp clk conv convValue watchMs seen. */
  item: Map<string, number>;
  /** itemId → list of [time the event entered the decayed counts at, isClick] to check decayed counts. */
  decayEvents: Map<string, Array<[number, boolean]>>;
  user: Map<string, Record<string, number>>;
  recent: Map<string, string[]>;
  events: number;
  orphanClicks: number;
}

export function emptyReference(): ReferenceState {
  return {
    posterior: new Map(),
    item: new Map(),
    decayEvents: new Map(),
    user: new Map(),
    recent: new Map(),
    events: 0,
    orphanClicks: 0,
  };
}

function add(map: Map<string, number>, key: string, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/**
 * The topology's clock when it folded an event (ms) and `stream.decayMaxFutureSeconds` in ms: an event stamped
 * later than `now + maxFutureMs` enters the decayed counts at that limit.
 */
export interface ReferenceClock {
  now: number;
  maxFutureMs: number;
}

/**
 * Applies one event to the reference (`shown` remembers userId|requestId|itemId → slot|segment across events: a
 * request's record is its user's). With an
 * `examination` table (the position-bias model on, `stream.positionBias`) an impression in slot k adds e(k) to
 * the arm's impressions and a click on a known impression adds the missing 1 − e(k); without one, 1 and 0.
 * With a `clock` the event enters the decayed counts no later than `clock.now + clock.maxFutureMs`, as the
 * topology's fold takes it; without one, at its own time.
 */
export function referenceApply(
  ref: ReferenceState,
  shown: Map<string, string>,
  e: ClickstreamEvent,
  recentClicks: number,
  examination?: readonly number[],
  clock?: ReferenceClock,
): void {
  if (e.type === 'Carousel') {
    // One record, counted once; each shown item counts as its impression.
    for (const event of carouselImpressions(e.event))
      referenceApply(ref, shown, { type: 'Impression', event }, recentClicks, examination, clock);
    ref.events -= e.event.items.length - 1;
    return;
  }
  ref.events++;
  const { userId, itemId, timestamp } = e.event;
  const user = ref.user.get(userId) ?? { imp: 0, clk: 0, conv: 0, convValue: 0, watchMs: 0, lastActive: 0 };
  ref.user.set(userId, user);
  user.lastActive = Math.max(user.lastActive, timestamp);
  ref.item.set(`seen|${itemId}`, Math.max(ref.item.get(`seen|${itemId}`) ?? 0, timestamp));
  const decay = ref.decayEvents.get(itemId) ?? [];
  ref.decayEvents.set(itemId, decay);
  const decayAt = clock === undefined ? timestamp : Math.min(timestamp, clock.now + clock.maxFutureMs);
  if (e.type === 'Impression') {
    const segment = e.event.segment ?? '';
    const weight = examinationProbability(examination, e.event.slot);
    add(ref.posterior, `imp|${itemId}|*`, weight);
    if (segment) add(ref.posterior, `imp|${itemId}|${segment}`, weight);
    add(ref.item, `imp|${itemId}`, 1);
    user.imp++;
    decay.push([decayAt, false]);
    shown.set(`${userId}|${e.event.requestId}|${itemId}`, `${e.event.slot}|${segment}`);
  } else if (e.type === 'Click') {
    const impression = shown.get(`${userId}|${e.event.requestId}|${itemId}`);
    if (impression === undefined) ref.orphanClicks++;
    const bar = impression?.indexOf('|') ?? -1;
    const impressionSegment = impression?.slice(bar + 1);
    const segment = e.event.segment || impressionSegment || '';
    add(ref.posterior, `clk|${itemId}|*`, 1);
    if (segment) add(ref.posterior, `clk|${itemId}|${segment}`, 1);
    if (impression !== undefined) {
      // The click proves the impression was examined: the rest of its examination.
      const correction = 1 - examinationProbability(examination, Number(impression.slice(0, bar)));
      add(ref.posterior, `imp|${itemId}|*`, correction);
      if (segment) add(ref.posterior, `imp|${itemId}|${segment}`, correction);
    }
    add(ref.item, `clk|${itemId}`, 1);
    user.clk++;
    decay.push([decayAt, true]);
    const recent = (ref.recent.get(userId) ?? []).filter((i) => i !== itemId);
    recent.unshift(itemId);
    ref.recent.set(userId, recent.slice(0, recentClicks));
  } else if (e.type === 'Conversion') {
    add(ref.item, `conv|${itemId}`, 1);
    add(ref.item, `convValue|${itemId}`, e.event.value);
    user.conv++;
    user.convValue += e.event.value;
  } else {
    add(ref.item, `watchMs|${itemId}`, e.event.watchTimeMs);
    user.watchMs += e.event.watchTimeMs;
  }
}

/** Decayed count of an item's impressions or clicks at time `at` (sum of 2^(-(at - t)/h)). */
export function referenceDecayed(
  ref: ReferenceState,
  itemId: string,
  clicks: boolean,
  at: number,
  halfLifeMs: number,
): number {
  let sum = 0;
  for (const [t, isClick] of ref.decayEvents.get(itemId) ?? []) {
    if (isClick === clicks) sum += 2 ** (-(at - t) / halfLifeMs);
  }
  return sum;
}
