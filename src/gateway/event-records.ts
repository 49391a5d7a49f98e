/**
 * The clickstream records the event log writes: one Carousel per dealt decision (policy, model version,
 * experiment, segment, context, shadow policy, and every shown item with its slot, score, propensities and
 * scored feature row; streams/schemas/Carousel.avsc) and one Click, Conversion or Watch per piece of feedback.
 * Each record is keyed by the user id.
 */
import { randomUUID } from 'node:crypto';
import type { CarouselItem } from '../../streams/schemas/index.ts';
import type { Decision, RequestContext } from '../domain/decision.ts';
import { inRange, LIMITS } from '../domain/limits.ts';
import type { QueuedEvent } from './event-buffer.ts';

export type FeedbackEvent =
  | {
      kind: 'click';
      requestId: string;
      userId: string;
      itemId: string;
      slot: number | null;
      segment: string | null;
    }
  | { kind: 'conversion'; requestId: string; userId: string; itemId: string; value: number }
  | { kind: 'watch'; requestId: string; userId: string; itemId: string; watchTimeMs: number };

/**
 * The Carousel record of a dealt decision: every shown item in slot order with its slot, score, propensity, the
 * shadow policy's slot of it and probability of its shown slot (when the request had a shadow policy), and the
 * feature row the model scored for it. A score the model gave outside [0, 1] (NaN, say: a model that passed the
 * load-time probe can still give one on live rows) is logged as none: the topology refuses a record with such a
 * score, and with it the impressions of every item the carousel showed, while the clicks on them still count.
 */
export function carouselRecord(decision: Decision, context: RequestContext, timestamp: number): QueuedEvent {
  const hasContext = context.device !== null || context.country !== null || context.page !== null;
  const shadow = decision.shadow;
  const shown = decision.items;
  const features = decision.features;
  const width = features === undefined || shown.length === 0 ? 0 : features.length / shown.length;
  const items: CarouselItem[] = new Array(shown.length);
  for (let s = 0; s < shown.length; s++) {
    const item = shown[s];
    let shadowSlot: number | null = null;
    if (shadow !== null) {
      for (let k = 0; k < shadow.items.length; k++) {
        if (shadow.items[k].itemId === item.itemId) {
          shadowSlot = shadow.items[k].slot;
          break;
        }
      }
    }
    items[s] = {
      itemId: item.itemId,
      slot: item.slot,
      score: inRange(item.score, LIMITS.score) ? item.score : null,
      propensity: item.propensity,
      shadowSlot,
      shadowPropensity: shadow === null ? null : (shadow.shownPropensities[s] ?? null),
      features: width > 0 ? Array.from(features!.subarray(s * width, (s + 1) * width)) : null,
    };
  }
  return {
    schema: 'Carousel',
    key: decision.userId,
    timestamp,
    value: {
      eventId: randomUUID(),
      requestId: decision.requestId,
      userId: decision.userId,
      policy: decision.policy,
      modelVersion: decision.modelVersion,
      experiment: decision.experiment,
      variant: decision.variant,
      segment: decision.segment,
      context: hasContext ? { ...context } : null,
      timestamp,
      shadowPolicy: shadow === null ? null : shadow.policy,
      featureSpecHash: width > 0 ? (decision.featureSpecHash ?? null) : null,
      items,
      // Built from the decider's copy now, after the reply, for the sampled share that logs it.
      candidates: decision.candidates?.resolve() ?? null,
    },
  };
}

/** The record of one piece of feedback. */
export function feedbackRecord(event: FeedbackEvent, timestamp: number): QueuedEvent {
  const base = {
    eventId: randomUUID(),
    requestId: event.requestId,
    userId: event.userId,
    itemId: event.itemId,
  };
  if (event.kind === 'click') {
    return {
      schema: 'Click',
      key: event.userId,
      timestamp,
      value: { ...base, slot: event.slot, segment: event.segment, timestamp },
    };
  }
  if (event.kind === 'conversion') {
    return {
      schema: 'Conversion',
      key: event.userId,
      timestamp,
      value: { ...base, value: event.value, timestamp },
    };
  }
  return {
    schema: 'Watch',
    key: event.userId,
    timestamp,
    value: { ...base, watchTimeMs: event.watchTimeMs, timestamp },
  };
}
