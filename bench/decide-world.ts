/**
 * The synthetic world bench:decide decides in (and bench/decide-integral.ts draws its posteriors from): n items
 * with varied counts, a user with history, and per-segment arms, seeded by n.
 */
import type {
  DecisionRequest,
  ItemFeatures,
  ItemInfo,
  StateView,
  UserFeatures,
} from '../src/domain/decision.ts';
import { createRng } from '../src/stats/rng.ts';

const DAY_MS = 86_400_000;

/** How bench:decide's deciders decide: Thompson sampling, prior strength 20, seeded. */
export const DECIDING = { policy: 'thompson', priorStrength: 20, seed: 7 } as const;

/** The 10-slot request bench:decide makes, for the world's user. */
export const REQUEST: DecisionRequest = {
  requestId: 'r',
  userId: 'u1',
  slots: 10,
  context: { device: 'mobile', country: 'DE', page: 'home' },
};

/** A synthetic world of n items with varied counts, a user with history, and per-segment arms. */
export function world(n: number): StateView {
  const rng = createRng(n);
  const now = Date.now();
  const categories = ['movies', 'series', 'documentary', 'kids', 'sports', 'news', 'music', 'poetry'];
  const items: ItemInfo[] = [];
  const features = new Map<string, ItemFeatures>();
  /** segment → itemId → counts, as the change-feed cache keeps them. */
  const arms = new Map<string, Map<string, { impressions: number; clicks: number }>>([
    ['mobile|premium', new Map()],
  ]);
  for (let i = 0; i < n; i++) {
    const itemId = `item-${i}`;
    items.push({
      itemId,
      title: `Item ${i}`,
      category: categories[i % categories.length],
      tags: [],
      available: true,
      createdAt: now - rng.next() * 90 * DAY_MS,
    });
    const impressions = Math.floor(rng.next() ** 2 * 20_000);
    const clicks = Math.floor(impressions * rng.next() * 0.12);
    features.set(itemId, {
      impressions,
      clicks,
      conversions: 0,
      conversionValue: 0,
      watchMs: 0,
      lastSeen: now,
      decayedCtr: impressions > 0 ? clicks / impressions : 0,
    });
    arms.get('mobile|premium')!.set(itemId, { impressions: impressions / 4, clicks: clicks / 4 });
  }
  const user: UserFeatures = {
    userId: 'u1',
    segment: 'premium',
    country: 'DE',
    subscribed: true,
    impressions: 340,
    clicks: 21,
    conversions: 2,
    watchMs: 3_600_000,
    lastActive: now,
    recent: ['item-1', 'item-7', 'item-12', 'item-30'],
  };
  const zero = { impressions: 0, clicks: 0 };
  return {
    items: () => items,
    arm: (itemId, segment) => arms.get(segment)?.get(itemId) ?? zero,
    itemFeatures: (itemId) => features.get(itemId),
    user: (userId) => (userId === user.userId ? user : undefined),
  };
}
