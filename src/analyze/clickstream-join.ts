/**
 * Reads a metric straight from croupier's clickstream events (the contracts in streams/schemas): an
 * Impression (or each shown item of a Carousel) carries the variant; a Click, Conversion or Watch carries only
 * the requestId and itemId of the impression it answers. The join remembers each impression by a 53-bit hash of `requestId itemId` (a number,
 * not a string, so a million impressions stay a few tens of MB) and credits the answer to its variant:
 * ctr and conversion count impressions as trials and answered impressions as successes (once each);
 * watch_time collects each Watch's seconds. Answers before their impression are orphans and are skipped.
 */
import type { Metric } from './analysis-report.ts';
import type { ContinuousTallies, RateTallies } from './tally.ts';

/** FNV-1a and a second multiplicative hash of the same string, folded into 53 bits. */
function keyOf(requestId: string, itemId: string): number {
  const s = `${requestId}\u0000${itemId}`;
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (h1 >>> 0) * 2097152 + ((h2 >>> 0) & 0x1fffff);
}

function isString(x: unknown): x is string {
  return typeof x === 'string' && x !== '';
}

/** Which clickstream record a decoded object is, told by the fields its contract has. */
export function clickstreamKind(
  r: Readonly<Record<string, unknown>>,
): 'carousel' | 'impression' | 'click' | 'conversion' | 'watch' | undefined {
  if (!isString(r.requestId)) return undefined;
  if (Array.isArray(r.items) && 'policy' in r) return 'carousel';
  if (!isString(r.itemId)) return undefined;
  if ('propensity' in r && 'policy' in r) return 'impression';
  if ('watchTimeMs' in r) return 'watch';
  if ('value' in r) return 'conversion';
  return 'click';
}

const ANSWER: Record<Metric, 'click' | 'conversion' | 'watch'> = {
  ctr: 'click',
  conversion: 'conversion',
  watch_time: 'watch',
};

export class ClickstreamJoin {
  /** Impression key → variant index · 2 + (1 once answered). */
  private readonly impressions = new Map<number, number>();
  private readonly variants: string[] = [];
  private readonly indexOf = new Map<string, number>();

  constructor(
    private readonly metric: Metric,
    private readonly variantField: string,
    private readonly tallies: { rates?: RateTallies; values?: ContinuousTallies },
  ) {}

  /**
   * Takes one clickstream record; false when it is not one, lacks a variant, or answers no known impression. A
   * Carousel counts as one impression per shown item, as the Impression records it replaces would.
   */
  add(record: Readonly<Record<string, unknown>>): boolean {
    const kind = clickstreamKind(record);
    if (kind === undefined) return false;
    if (kind === 'carousel') {
      const variant = record[this.variantField];
      if (!isString(variant)) return false;
      let added = false;
      for (const item of record.items as readonly unknown[]) {
        const itemId = (item as { itemId?: unknown } | null)?.itemId;
        if (isString(itemId) && this.addImpression(keyOf(record.requestId as string, itemId), variant)) {
          added = true;
        }
      }
      return added;
    }
    const key = keyOf(record.requestId as string, record.itemId as string);
    if (kind === 'impression') {
      const variant = record[this.variantField];
      return isString(variant) && this.addImpression(key, variant);
    }
    if (kind !== ANSWER[this.metric]) return true;
    const state = this.impressions.get(key);
    if (state === undefined) return false;
    const variant = this.variants[state >> 1];
    if (kind === 'watch') {
      const ms = record.watchTimeMs;
      return typeof ms === 'number' && (this.tallies.values?.add(variant, ms / 1000) ?? false);
    }
    if ((state & 1) === 0) {
      this.impressions.set(key, state | 1);
      this.tallies.rates?.addSuccess(variant);
    }
    return true;
  }

  /** One trial of `variant`, unless the impression `key` is known already. */
  private addImpression(key: number, variant: string): boolean {
    let index = this.indexOf.get(variant);
    if (index === undefined) {
      index = this.variants.push(variant) - 1;
      this.indexOf.set(variant, index);
    }
    if (this.impressions.has(key)) return false;
    this.impressions.set(key, index * 2);
    this.tallies.rates?.add(variant, 0);
    return true;
  }
}
