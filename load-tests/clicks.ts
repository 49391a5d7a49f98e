/**
 * Users who click, for load tests of the whole loop (`croupier loadtest --clicks`, `npm run bench:loadtest --
 * --clicks`): after each carousel reply every shown item is clicked with probability appeal(item) · 1 / (slot + 1),
 * and the click goes back on the same connection as a `feedback` message, as the carousel page sends it.
 *
 * An item's appeal is fixed by its id (a hash: 2 % to 30 %, most items near the bottom), so every connection and
 * every run agree on which items are better and the posteriors separate as they do in production. A generator
 * that never clicks lets every posterior only narrow towards zero together: the candidates become a crowd of
 * near-equal posteriors, the Thompson propensity integral's worst case (`bench/integral-crowd.ts`), which no
 * catalog with clicks looks like.
 */
import type { FeedbackMessage } from '../src/domain/protocol-messages.ts';
import { createRng } from '../src/stats/rng.ts';

/** Lowest and highest appeal (the click probability in the first slot). */
const APPEAL_MIN = 0.02;
const APPEAL_SPAN = 0.28;

/** An item's appeal, from a 32-bit FNV-1a hash of its id: APPEAL_MIN + APPEAL_SPAN · u², u uniform by the hash. */
export function itemAppeal(itemId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < itemId.length; i++) {
    h ^= itemId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  const u = (h >>> 0) / 4294967296;
  return APPEAL_MIN + APPEAL_SPAN * u * u;
}

/** Chance that an item shown in `slot` (0-based) is looked at. */
export const examination = (slot: number): number => 1 / (slot + 1);

const CAROUSEL_MARK = Buffer.from('"type":"carousel"');

export interface Clicker {
  /** The feedback messages a user sends after reading `reply` (none unless it is a carousel). */
  clicksOn(reply: Buffer): string[];
  /** Clicks sent so far. */
  readonly clicks: number;
}

/** Seeded: a run with the same seed and the same replies clicks the same items. */
export function createClicker(seed: number): Clicker {
  const rng = createRng(seed);
  let clicks = 0;
  return {
    clicksOn(reply) {
      if (reply.indexOf(CAROUSEL_MARK) === -1) return [];
      let carousel: { type?: unknown; requestId?: unknown; items?: unknown };
      try {
        carousel = JSON.parse(reply.toString('utf8')) as typeof carousel;
      } catch {
        return [];
      }
      if (carousel.type !== 'carousel' || typeof carousel.requestId !== 'string') return [];
      if (!Array.isArray(carousel.items)) return [];
      const out: string[] = [];
      for (const item of carousel.items as { itemId?: unknown; slot?: unknown }[]) {
        if (typeof item?.itemId !== 'string' || typeof item.slot !== 'number') continue;
        if (rng.next() >= itemAppeal(item.itemId) * examination(item.slot)) continue;
        const click: FeedbackMessage = {
          type: 'feedback',
          requestId: carousel.requestId,
          itemId: item.itemId,
          kind: 'click',
        };
        out.push(JSON.stringify(click));
      }
      clicks += out.length;
      return out;
    },
    get clicks() {
      return clicks;
    },
  };
}
