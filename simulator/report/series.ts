/**
 * What a simulation measures, bucketed over simulated time per policy (or experiment variant): requests,
 * impressions, clicks, conversions and their value, watch time, and the expected clicks of the shown slates
 * beside the oracle's. Regret is the pseudo-regret Σ (oracle expected clicks − shown expected clicks), which
 * has far less noise than realised clicks and is what the bounds speak of.
 */
import type { Outcome } from '../world/click-model.ts';

export interface Bucket {
  /** Start of the bucket, simulated seconds. */
  start: number;
  requests: number;
  impressions: number;
  clicks: number;
  conversions: number;
  conversionValue: number;
  watchMs: number;
  expectedClicks: number;
  oracleClicks: number;
}

export interface PolicySeries {
  /** Policy name, or `policy/variant` when the gateway runs an experiment. */
  label: string;
  buckets: Bucket[];
}

export interface KArmedCurve {
  /** Pull counts at which regret was read. */
  pulls: number[];
  /** The Lai–Robbins lower bound Σ Δ_i / KL(μ_i, μ*) · ln t at those pulls. */
  bound: number[];
  /** Cumulative pseudo-regret per policy at those pulls. */
  regret: Record<string, number[]>;
}

export interface SimulationReport {
  scenario: string;
  seed: number;
  mode: 'in-process' | 'gateway';
  bucketSeconds: number;
  series: PolicySeries[];
  kArmed?: KArmedCurve;
  /** Figures of the run that are not per bucket (latency of the gateway, CDC events published...). */
  notes?: Record<string, number | string>;
}

function emptyBucket(start: number): Bucket {
  return {
    start,
    requests: 0,
    impressions: 0,
    clicks: 0,
    conversions: 0,
    conversionValue: 0,
    watchMs: 0,
    expectedClicks: 0,
    oracleClicks: 0,
  };
}

/** Accumulates outcomes into buckets of `bucketSeconds`, one series per label. */
export class SeriesRecorder {
  private readonly byLabel = new Map<string, Bucket[]>();

  constructor(readonly bucketSeconds: number) {}

  record(label: string, at: number, outcomes: readonly Outcome[], expected: number, oracle: number): void {
    let buckets = this.byLabel.get(label);
    if (buckets === undefined) {
      buckets = [];
      this.byLabel.set(label, buckets);
    }
    const index = Math.max(0, Math.floor(at / this.bucketSeconds));
    while (buckets.length <= index) buckets.push(emptyBucket(buckets.length * this.bucketSeconds));
    const b = buckets[index];
    b.requests += 1;
    b.impressions += outcomes.length;
    for (const o of outcomes) {
      if (o.clicked) b.clicks += 1;
      if (o.converted) {
        b.conversions += 1;
        b.conversionValue += o.value;
      }
      b.watchMs += o.watchMs;
    }
    b.expectedClicks += expected;
    b.oracleClicks += oracle;
  }

  series(): PolicySeries[] {
    const width = Math.max(0, ...[...this.byLabel.values()].map((b) => b.length));
    return [...this.byLabel.entries()].map(([label, buckets]) => {
      while (buckets.length < width) buckets.push(emptyBucket(buckets.length * this.bucketSeconds));
      return { label, buckets };
    });
  }
}

export interface SeriesTotals {
  label: string;
  requests: number;
  impressions: number;
  clicks: number;
  ctr: number;
  conversions: number;
  conversionRate: number;
  conversionValue: number;
  /** Mean watch time per click, ms. */
  watchMsPerClick: number;
  regret: number;
  /** Regret as a share of the oracle's expected clicks. */
  regretShare: number;
}

export function totals(series: PolicySeries): SeriesTotals {
  let requests = 0;
  let impressions = 0;
  let clicks = 0;
  let conversions = 0;
  let value = 0;
  let watch = 0;
  let expected = 0;
  let oracle = 0;
  for (const b of series.buckets) {
    requests += b.requests;
    impressions += b.impressions;
    clicks += b.clicks;
    conversions += b.conversions;
    value += b.conversionValue;
    watch += b.watchMs;
    expected += b.expectedClicks;
    oracle += b.oracleClicks;
  }
  return {
    label: series.label,
    requests,
    impressions,
    clicks,
    ctr: impressions > 0 ? clicks / impressions : 0,
    conversions,
    conversionRate: clicks > 0 ? conversions / clicks : 0,
    conversionValue: value,
    watchMsPerClick: clicks > 0 ? watch / clicks : 0,
    regret: oracle - expected,
    regretShare: oracle > 0 ? (oracle - expected) / oracle : 0,
  };
}

/** Cumulative regret at the end of each bucket. */
export function cumulativeRegret(series: PolicySeries): number[] {
  let sum = 0;
  return series.buckets.map((b) => {
    sum += b.oracleClicks - b.expectedClicks;
    return sum;
  });
}
