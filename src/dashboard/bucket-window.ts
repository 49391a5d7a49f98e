/**
 * Quantiles and distributions of a bucketed histogram over the last few seconds: the difference between the
 * snapshot taken now and the one taken `seconds` ago, read as Prometheus's `histogram_quantile` reads it
 * (linear within a bucket). Precise to a bucket's width, which for latency is what the buckets were chosen for.
 */
import type { BucketCounts } from './sources.ts';

/** The bucket counts between two snapshots of one histogram. */
export function bucketDelta(now: BucketCounts, before: BucketCounts | undefined): BucketCounts {
  if (before === undefined) return now;
  return {
    bounds: now.bounds,
    counts: now.counts.map((c, i) => c - (before.counts[i] ?? 0)),
    sum: now.sum - before.sum,
    count: now.count - before.count,
  };
}

/**
 * The q-quantile (0 < q < 1) of bucketed values: linear between a bucket's lower and upper bound; the last
 * bound when it falls above every bucket; null without values.
 */
export function bucketQuantile(buckets: BucketCounts, q: number): number | null {
  if (buckets.count <= 0) return null;
  const rank = q * buckets.count;
  let below = 0;
  for (let i = 0; i < buckets.bounds.length; i++) {
    const inBucket = buckets.counts[i];
    if (below + inBucket >= rank && inBucket > 0) {
      const lower = i === 0 ? 0 : buckets.bounds[i - 1];
      return lower + ((buckets.bounds[i] - lower) * (rank - below)) / inBucket;
    }
    below += inBucket;
  }
  return buckets.bounds[buckets.bounds.length - 1];
}

/** Snapshots of one histogram, one per tick, the last `size` kept. */
export class BucketWindow {
  private readonly ring: BucketCounts[] = [];

  constructor(private readonly size = 10) {}

  /** Records this tick's snapshot; returns the counts since the oldest kept one. */
  push(snapshot: BucketCounts): BucketCounts {
    this.ring.push(snapshot);
    if (this.ring.length > this.size + 1) this.ring.shift();
    return bucketDelta(snapshot, this.ring.length > 1 ? this.ring[0] : undefined);
  }
}
