/**
 * What the posteriors believe, per segment: the items with the highest posterior mean and the items whose
 * belief is least settled (widest 95 % interval), among items shown at least once. The posterior read here is
 * Beta(1 + clicks, 1 + impressions − clicks) of the live counts alone; the decider adds the model's prior on top
 * (docs/decision.md), which a dashboard showing what the data says leaves out on purpose.
 */
import type { ArmStats, ItemInfo } from '../domain/decision.ts';
import { beta } from '../stats/index.ts';

export interface PosteriorRow {
  itemId: string;
  title: string;
  impressions: number;
  clicks: number;
  mean: number;
  /** The central 95 % interval of the Beta. */
  low: number;
  high: number;
}

export interface SegmentLeaders {
  segment: string;
  /** Items of the pool shown in this segment. */
  shown: number;
  highest: PosteriorRow[];
  mostUncertain: PosteriorRow[];
}

interface Candidate {
  item: ItemInfo;
  arm: ArmStats;
  a: number;
  b: number;
  mean: number;
  variance: number;
}

function row(c: Candidate): PosteriorRow {
  const dist = beta({ alpha: c.a, beta: c.b });
  return {
    itemId: c.item.itemId,
    title: c.item.title,
    impressions: c.arm.impressions,
    clicks: c.arm.clicks,
    mean: c.mean,
    low: dist.quantile(0.025),
    high: dist.quantile(0.975),
  };
}

/** The `top` highest and most uncertain posteriors of one segment (`'*'`: all segments together). */
export function segmentLeaders(
  items: readonly ItemInfo[],
  arm: (itemId: string, segment: string) => ArmStats,
  segment: string,
  top = 5,
): SegmentLeaders {
  const shown: Candidate[] = [];
  for (const item of items) {
    const stats = arm(item.itemId, segment);
    if (!(stats.impressions > 0)) continue;
    const clicks = Math.min(Math.max(0, stats.clicks), stats.impressions);
    const a = 1 + clicks;
    const b = 1 + stats.impressions - clicks;
    const n = a + b;
    shown.push({ item, arm: stats, a, b, mean: a / n, variance: (a * b) / (n * n * (n + 1)) });
  }
  const highest = [...shown].sort((x, y) => y.mean - x.mean).slice(0, top);
  const mostUncertain = [...shown].sort((x, y) => y.variance - x.variance).slice(0, top);
  return {
    segment,
    shown: shown.length,
    highest: highest.map(row),
    mostUncertain: mostUncertain.map(row),
  };
}
