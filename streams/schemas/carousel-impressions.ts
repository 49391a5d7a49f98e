/**
 * A Carousel record as the Impression records that would have said the same, one per shown item in slot order:
 * for readers written against impressions (the reference fold of the tests, joins by request and item). Each
 * impression's `eventId` is the carousel's with `/<slot>` appended, so the N of one carousel stay distinct.
 */
import type { Carousel, Impression } from './index.ts';

export function carouselImpressions(carousel: Carousel): Impression[] {
  const out: Impression[] = new Array(carousel.items.length);
  for (let s = 0; s < carousel.items.length; s++) {
    const item = carousel.items[s];
    out[s] = {
      eventId: `${carousel.eventId}/${item.slot}`,
      requestId: carousel.requestId,
      userId: carousel.userId,
      itemId: item.itemId,
      slot: item.slot,
      policy: carousel.policy,
      modelVersion: carousel.modelVersion,
      propensity: item.propensity,
      score: item.score,
      experiment: carousel.experiment,
      variant: carousel.variant,
      segment: carousel.segment,
      context: carousel.context,
      timestamp: carousel.timestamp,
      shadowPolicy: carousel.shadowPolicy,
      shadowSlot: item.shadowSlot,
      shadowPropensity: item.shadowPropensity,
    };
  }
  return out;
}
