/** The candidate step of a decision: which items of the live pool a request may be shown. */
import type { ItemInfo } from '../domain/decision.ts';

/**
 * Writes the live pool's available items (of `category`, when the request names one) into `out`, a list the
 * decider reuses between requests, and returns how many there are; entries past that count are stale.
 */
export function collectCandidates(
  live: readonly ItemInfo[],
  category: string | undefined,
  out: ItemInfo[],
): number {
  let n = 0;
  for (let i = 0; i < live.length; i++) {
    const item = live[i];
    if (!item.available || (category !== undefined && item.category !== category)) continue;
    out[n++] = item;
  }
  return n;
}
