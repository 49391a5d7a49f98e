/**
 * The clickstream records the event log writes: one Impression per shown item of a decision (slot, policy,
 * model version, propensity, experiment, segment, context and, when the request had a shadow policy, that
 * policy's slot of the item and its probability of the shown slot) and one Click, Conversion or Watch per piece
 * of feedback. Each record is keyed by the user id.
 */
import { randomUUID } from 'node:crypto';
import type { Decision, RequestContext } from '../domain/decision.ts';
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

/** Emits the impressions of a decision's shown items, in slot order. */
export function emitImpressions(
  decision: Decision,
  context: RequestContext,
  timestamp: number,
  emit: (event: QueuedEvent) => void,
): void {
  const hasContext = context.device !== null || context.country !== null || context.page !== null;
  const shadow = decision.shadow;
  let shadowSlots: Map<string, number> | null = null;
  if (shadow !== null) {
    shadowSlots = new Map();
    for (const item of shadow.items) shadowSlots.set(item.itemId, item.slot);
  }
  for (let s = 0; s < decision.items.length; s++) {
    const item = decision.items[s];
    emit({
      schema: 'Impression',
      key: decision.userId,
      timestamp,
      value: {
        eventId: randomUUID(),
        requestId: decision.requestId,
        userId: decision.userId,
        itemId: item.itemId,
        slot: item.slot,
        policy: decision.policy,
        modelVersion: decision.modelVersion,
        propensity: item.propensity,
        score: item.score,
        experiment: decision.experiment,
        variant: decision.variant,
        segment: decision.segment,
        context: hasContext ? { ...context } : null,
        timestamp,
        shadowPolicy: shadow === null ? null : shadow.policy,
        shadowSlot: shadowSlots === null ? null : (shadowSlots.get(item.itemId) ?? null),
        shadowPropensity: shadow === null ? null : (shadow.shownPropensities[s] ?? null),
      },
    });
  }
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
