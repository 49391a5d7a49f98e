/**
 * Live counts from the tailed topics, one record at a time: records per topic; per experiment, impressions and
 * clicks per variant joined as `croupier analyze` joins them (src/analyze's ClickstreamJoin, so the verdict on the
 * page is the one the command would print over the same events); how often the shadow policy's slate put an item
 * in another slot than the served one; the model's scores of what was shown; the segments seen.
 */
import { carouselImpressions } from '../../streams/schemas/carousel-impressions.ts';
import type { Carousel } from '../../streams/schemas/index.ts';
import { ClickstreamJoin, RateTallies } from '../analyze/index.ts';
import type { TailedRecord } from './sources.ts';

const SCORE_BINS = 20;

export interface ShadowComparison {
  /** Impressions logged with this shadow policy. */
  slots: number;
  /** Of those, the ones the shadow slate did not hold in the same slot. */
  differ: number;
}

interface ExperimentTally {
  join: ClickstreamJoin;
  rates: RateTallies;
  /** Users dealt each variant: the units the split assigns, which the sample-ratio check counts. */
  users: Map<string, Set<string>>;
}

/** One experiment's live counts. */
export interface ExperimentCounts {
  /** Clicked impressions (successes) out of impressions (trials) per variant. */
  rates: ReadonlyMap<string, { successes: number; trials: number }>;
  /** Distinct users per variant. */
  users: ReadonlyMap<string, number>;
}

export class ClickstreamTally {
  readonly recordsByTopic = new Map<string, number>();
  /** Impressions per context segment. */
  readonly segments = new Map<string, number>();
  readonly shadow = new Map<string, ShadowComparison>();
  /** Shown items' scores in SCORE_BINS equal bins over [0, 1], for `scoreModel`; reset when the model changes. */
  readonly scoreBins = new Float64Array(SCORE_BINS);
  scoreModel = '';
  private readonly experiments = new Map<string, ExperimentTally>();

  add(record: TailedRecord): void {
    this.recordsByTopic.set(record.topic, (this.recordsByTopic.get(record.topic) ?? 0) + 1);
    const event = record.event;
    if (event === undefined) return;
    const value = event.value;
    if (event.schemaName === 'Impression') this.addImpression(value);
    else if (event.schemaName === 'Carousel') {
      // One impression per shown item, counted as the Impression records it replaces.
      for (const impression of carouselImpressions(value as unknown as Carousel)) {
        this.addImpression(impression as unknown as Readonly<Record<string, unknown>>);
      }
    } else for (const tally of this.experiments.values()) tally.join.add(value);
  }

  /** The counts of each experiment seen. */
  experimentCounts(): Map<string, ExperimentCounts> {
    return new Map(
      [...this.experiments].map(([name, t]) => [
        name,
        { rates: t.rates.byVariant, users: new Map([...t.users].map(([v, set]) => [v, set.size])) },
      ]),
    );
  }

  private addImpression(value: Readonly<Record<string, unknown>>): void {
    const segment = value.segment;
    if (typeof segment === 'string') this.segments.set(segment, (this.segments.get(segment) ?? 0) + 1);
    const experiment = value.experiment;
    if (typeof experiment === 'string' && experiment !== '') {
      let tally = this.experiments.get(experiment);
      if (tally === undefined) {
        const rates = new RateTallies();
        tally = { rates, join: new ClickstreamJoin('ctr', 'variant', { rates }), users: new Map() };
        this.experiments.set(experiment, tally);
      }
      tally.join.add(value);
      const variant = value.variant;
      if (typeof variant === 'string' && typeof value.userId === 'string') {
        let users = tally.users.get(variant);
        if (users === undefined) {
          users = new Set();
          tally.users.set(variant, users);
        }
        users.add(value.userId);
      }
    }
    const shadowPolicy = value.shadowPolicy;
    if (typeof shadowPolicy === 'string') {
      const comparison = this.shadow.get(shadowPolicy) ?? { slots: 0, differ: 0 };
      comparison.slots++;
      if (value.shadowSlot !== value.slot) comparison.differ++;
      this.shadow.set(shadowPolicy, comparison);
    }
    const score = value.score;
    const model = typeof value.modelVersion === 'string' ? value.modelVersion : '';
    if (typeof score === 'number' && Number.isFinite(score)) {
      if (model !== this.scoreModel) {
        this.scoreModel = model;
        this.scoreBins.fill(0);
      }
      const bin = Math.min(SCORE_BINS - 1, Math.max(0, Math.floor(score * SCORE_BINS)));
      this.scoreBins[bin]++;
    }
  }
}
