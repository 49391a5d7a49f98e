/**
 * Logged carousels from a recording (JSON lines written by `croupier simulate --record`, in process or against
 * the gateway): each `response` is a dealt carousel, with its propensities and, where it was logged, its
 * candidate set; each `feedback` adds a click, a conversion or watch time to the slot of its item.
 */
import type { CarouselMessage, FeedbackMessage } from '../domain/protocol-messages.ts';
import { CroupierError } from '../errors/index.ts';
import type { LoggedCarousel } from './logged-carousel.ts';

/** The events of a recording a shadow test reads (simulator/replay/recording.ts writes them). */
export type RecordingEvent =
  | { kind: 'meta' }
  | { kind: 'request' }
  | { kind: 'response'; t: number; userId: string; response: CarouselMessage }
  | { kind: 'feedback'; t: number; userId: string; feedback: FeedbackMessage };

/**
 * The recording's carousels in the order they were dealt. A carousel whose items lack propensities (a client
 * that did not ask for them in hello) cannot be evaluated: refused with how to record it.
 */
export function carouselsFromRecording(
  events: readonly RecordingEvent[],
  source = 'recording',
): LoggedCarousel[] {
  const out: LoggedCarousel[] = [];
  const byRequest = new Map<string, LoggedCarousel>();
  for (const event of events) {
    if (event.kind === 'response') {
      const message = event.response;
      if (message.pushed) continue;
      const items = message.items.map((item) => {
        if (item.propensity === undefined) {
          throw new CroupierError(
            'CROUPIER_ERR_SHADOW_INPUT',
            `${source}: carousel ${message.requestId} carries no propensities; record with croupier simulate --record, which asks for them`,
            { requestId: message.requestId },
          );
        }
        return {
          itemId: item.itemId,
          slot: item.slot,
          score: item.score,
          propensity: item.propensity,
          shadowPropensity: null,
        };
      });
      const zeros = () => new Array<number>(items.length).fill(0);
      const carousel: LoggedCarousel = {
        requestId: message.requestId,
        userId: event.userId,
        timestamp: event.t,
        policy: message.policy,
        modelVersion: message.modelVersion,
        shadowPolicy: null,
        items,
        candidates: message.candidates ?? null,
        clicks: zeros(),
        conversions: zeros(),
        watchSeconds: zeros(),
      };
      out.push(carousel);
      byRequest.set(message.requestId, carousel);
    } else if (event.kind === 'feedback') {
      const feedback = event.feedback;
      const carousel = byRequest.get(feedback.requestId);
      if (carousel === undefined) continue;
      const slot = carousel.items.findIndex((item) => item.itemId === feedback.itemId);
      if (slot < 0) continue;
      if (feedback.kind === 'click') carousel.clicks[slot] = 1;
      else if (feedback.kind === 'conversion') carousel.conversions[slot] += 1;
      else carousel.watchSeconds[slot] += (feedback.watchTimeMs ?? 0) / 1000;
    }
  }
  return out;
}
