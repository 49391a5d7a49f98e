/**
 * Folds a batch of clickstream events (one partition, in offset order) into one delta: what every counter of
 * the partition's state changes by. Pure: the Redis script adds the delta to the stored state atomically.
 *
 * What each event counts (see docs/state-layout.md):
 * - Carousel: each shown item exactly as the Impression that would have said the same (below); the carousel's
 *   user, request, segment and timestamp are those of every item.
 * - Impression: arm impressions (global `*` and the impression's segment; examination-weighted with the
 *   position-bias model), item `imp` and decayed impressions, user `imp`; remembers what the request showed.
 * - Click: arm clicks (global, and the segment of the click or of the impression it answers), item `clk` and
 *   decayed clicks, user `clk` and recent clicked items. A click whose impression is not in this batch becomes a
 *   lookup the script resolves against the stored request (segment, slot, orphan count).
 * - Conversion: item and user `conv` and `convValue`. Watch: item and user `watchMs`.
 * Every event moves the item's `seen` and the user's `lastActive` to its timestamp when later.
 */
import {
  type ArmDelta,
  type ClickstreamDelta,
  type ItemDelta,
  requestRecordId,
  type UserDelta,
} from '../../src/domain/state-deltas.ts';
import type { ClickstreamEvent } from '../schemas/index.ts';
import { addObservation, type Decayed } from './decay.ts';
import { examinationProbability } from './position-bias.ts';

export interface ClickstreamFoldOptions {
  halfLifeMs: number;
  recentClicks: number;
  /** Examination probability per slot; undefined: the position-bias model is off. */
  examination?: readonly number[];
  /**
   * The folder's clock (ms since epoch), read once per fold. With it, an event later than `now() + maxFutureMs`
   * enters the decayed counts as if at that time (it still counts once in every plain counter): a producer whose
   * clock ran ahead would otherwise move an item's decayed counts to its time, and every event of the present
   * would add about nothing to them until that time came. Without it, events decay at their own time.
   */
  now?: () => number;
  /** How far ahead of `now()` an event's time is taken as it is (ms; default 0). */
  maxFutureMs?: number;
}

export const GLOBAL_SEGMENT = '*';

export function emptyClickstreamDelta(): ClickstreamDelta {
  return { events: 0, arms: new Map(), items: new Map(), users: new Map(), requests: new Map(), lookups: [] };
}

/** Folds `events` (in offset order) into one delta. */
export function foldClickstream(
  events: Iterable<ClickstreamEvent>,
  options: ClickstreamFoldOptions,
): ClickstreamDelta {
  const delta = emptyClickstreamDelta();
  const decayImp = new Map<string, Decayed>();
  const decayClk = new Map<string, Decayed>();
  const recent = new Map<string, Set<string>>();
  const h = options.halfLifeMs;
  const latest =
    options.now === undefined ? Number.POSITIVE_INFINITY : options.now() + (options.maxFutureMs ?? 0);
  const impression = (
    requestId: string,
    userId: string,
    itemId: string,
    slot: number,
    segment: string,
    t: number,
  ) => {
    const item = itemDelta(delta, itemId);
    if (t > item.seen) item.seen = t;
    const weight = examinationProbability(options.examination, slot);
    arm(delta, itemId, GLOBAL_SEGMENT).imp += weight;
    if (segment !== '') arm(delta, itemId, segment).imp += weight;
    item.imp++;
    userDelta(delta, userId).imp++;
    observe(decayImp, itemId, Math.min(t, latest), h);
    const record = requestRecordId(userId, requestId);
    let shown = delta.requests.get(record);
    if (shown === undefined) {
      shown = new Map();
      delta.requests.set(record, shown);
    }
    shown.set(itemId, `${slot}|${segment}`);
  };
  for (const e of events) {
    delta.events++;
    const { userId, timestamp } = e.event;
    const user = userDelta(delta, userId);
    if (timestamp > user.lastActive) user.lastActive = timestamp;
    if (e.type === 'Carousel') {
      // Each shown item counts as the impression that would have said the same.
      const { requestId, items } = e.event;
      const segment = e.event.segment || '';
      for (let s = 0; s < items.length; s++) {
        impression(requestId, userId, items[s].itemId, items[s].slot, segment, timestamp);
      }
      continue;
    }
    const itemId = e.event.itemId;
    const item = itemDelta(delta, itemId);
    if (timestamp > item.seen) item.seen = timestamp;
    switch (e.type) {
      case 'Impression':
        impression(e.event.requestId, userId, itemId, e.event.slot, e.event.segment || '', timestamp);
        break;
      case 'Click': {
        const { requestId } = e.event;
        const shown = delta.requests.get(requestRecordId(userId, requestId))?.get(itemId);
        arm(delta, itemId, GLOBAL_SEGMENT).clk++;
        if (shown === undefined) {
          delta.lookups.push({ userId, requestId, itemId, segment: e.event.segment || '' });
        } else {
          const bar = shown.indexOf('|');
          const slot = Number(shown.slice(0, bar));
          const segment = e.event.segment || shown.slice(bar + 1);
          const correction = 1 - examinationProbability(options.examination, slot);
          arm(delta, itemId, GLOBAL_SEGMENT).imp += correction;
          if (segment !== '') {
            const a = arm(delta, itemId, segment);
            a.clk++;
            a.imp += correction;
          }
        }
        item.clk++;
        user.clk++;
        observe(decayClk, itemId, Math.min(timestamp, latest), h);
        let clicked = recent.get(userId);
        if (clicked === undefined) {
          clicked = new Set();
          recent.set(userId, clicked);
        }
        clicked.delete(itemId);
        clicked.add(itemId);
        break;
      }
      case 'Conversion':
        item.conv++;
        item.convValue += e.event.value;
        user.conv++;
        user.convValue += e.event.value;
        break;
      case 'Watch':
        item.watchMs += e.event.watchTimeMs;
        user.watchMs += e.event.watchTimeMs;
        break;
    }
  }
  for (const item of delta.items.values()) {
    const imp = decayImp.get(item.itemId);
    const clk = decayClk.get(item.itemId);
    const at = Math.max(imp?.at ?? 0, clk?.at ?? 0);
    item.decayAt = at;
    item.decayImp = imp === undefined ? 0 : imp.value * 2 ** (-(at - imp.at) / h);
    item.decayClk = clk === undefined ? 0 : clk.value * 2 ** (-(at - clk.at) / h);
  }
  for (const [userId, clicked] of recent) {
    const list = [...clicked];
    delta.users.get(userId)!.recent = list.slice(Math.max(0, list.length - options.recentClicks));
  }
  return delta;
}

function observe(map: Map<string, Decayed>, itemId: string, t: number, halfLifeMs: number): void {
  let d = map.get(itemId);
  if (d === undefined) {
    d = { value: 0, at: t };
    map.set(itemId, d);
  }
  addObservation(d, t, 1, halfLifeMs);
}

function arm(delta: ClickstreamDelta, itemId: string, segment: string): ArmDelta {
  const key = `${itemId}|${segment}`;
  let a = delta.arms.get(key);
  if (a === undefined) {
    a = { itemId, segment, imp: 0, clk: 0 };
    delta.arms.set(key, a);
  }
  return a;
}

function itemDelta(delta: ClickstreamDelta, itemId: string): ItemDelta {
  let item = delta.items.get(itemId);
  if (item === undefined) {
    item = {
      itemId,
      imp: 0,
      clk: 0,
      conv: 0,
      convValue: 0,
      watchMs: 0,
      seen: 0,
      decayImp: 0,
      decayClk: 0,
      decayAt: 0,
    };
    delta.items.set(itemId, item);
  }
  return item;
}

function userDelta(delta: ClickstreamDelta, userId: string): UserDelta {
  let user = delta.users.get(userId);
  if (user === undefined) {
    user = { userId, imp: 0, clk: 0, conv: 0, convValue: 0, watchMs: 0, lastActive: 0, recent: [] };
    delta.users.set(userId, user);
  }
  return user;
}
