/**
 * The gateway's Prometheus metrics, rendered in the text exposition format (version 0.0.4) on `/metrics`.
 * A few fixed-bucket histograms and counters; nothing is computed until somebody scrapes.
 */

import type { BucketCounts } from '../dashboard/sources.ts';
import type { PropensityOffloadStats } from '../decision/propensity-offload.ts';

export class Histogram {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {
    this.counts = new Float64Array(buckets.length);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]) {
        this.counts[i]++;
        return;
      }
    }
  }

  /** The bucket bounds, each bucket's own count (not cumulative; values above the last bound in none), sum, count. */
  snapshot(): BucketCounts {
    return { bounds: this.buckets, counts: Array.from(this.counts), sum: this.sum, count: this.count };
  }

  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`, this.series('')].join('\n');
  }

  /** The sample lines, each with `labels` (`key="value",` pairs ending in a comma, or '') before `le`. */
  series(labels: string): string {
    const lines: string[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += this.counts[i];
      lines.push(`${this.name}_bucket{${labels}le="${this.buckets[i]}"} ${cumulative}`);
    }
    const plain = labels === '' ? '' : `{${labels.slice(0, -1)}}`;
    lines.push(`${this.name}_bucket{${labels}le="+Inf"} ${this.count}`);
    lines.push(`${this.name}_sum${plain} ${this.sum}`);
    lines.push(`${this.name}_count${plain} ${this.count}`);
    return lines.join('\n');
  }
}

/** The steps of a decision on the reply's path, as `Decision.timings` names them. */
export const DECISION_STEPS = ['features', 'scoring', 'sampling'] as const;
export type DecisionStep = (typeof DECISION_STEPS)[number];

/** One histogram of a decision's time per step, rendered as one metric with a `step` label. */
export class DecisionStepHistograms {
  private readonly steps: Record<DecisionStep, Histogram>;

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    this.steps = {
      features: new Histogram(name, help, buckets),
      scoring: new Histogram(name, help, buckets),
      sampling: new Histogram(name, help, buckets),
    };
  }

  observe(step: DecisionStep, seconds: number): void {
    this.steps[step].observe(seconds);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const step of DECISION_STEPS) lines.push(this.steps[step].series(`step="${step}",`));
    return lines.join('\n');
  }
}

export function counterLines(name: string, help: string, value: number, labels = ''): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name}${labels} ${value}`;
}

export function gaugeLines(name: string, help: string, value: number, labels = ''): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name}${labels} ${value}`;
}

/** Escapes a Prometheus label value. */
export function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Events per second over a sliding window of whole seconds. */
export class RateWindow {
  private readonly slots: Float64Array;
  private readonly stamps: Float64Array;

  constructor(private readonly seconds = 10) {
    this.slots = new Float64Array(seconds);
    this.stamps = new Float64Array(seconds);
  }

  add(n = 1, nowMs = Date.now()): void {
    const second = Math.floor(nowMs / 1000);
    const i = second % this.seconds;
    if (this.stamps[i] !== second) {
      this.stamps[i] = second;
      this.slots[i] = 0;
    }
    this.slots[i] += n;
  }

  /** Mean rate over the last full `seconds` (the current, partial second excluded). */
  perSecond(nowMs = Date.now()): number {
    const current = Math.floor(nowMs / 1000);
    let total = 0;
    for (let i = 0; i < this.seconds; i++) {
      const age = current - this.stamps[i];
      if (age >= 1 && age <= this.seconds) total += this.slots[i];
    }
    return total / this.seconds;
  }
}

const LATENCY_BUCKETS_S = [
  0.00005, 0.0001, 0.00015, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];
const FRESHNESS_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Everything the gateway counts. */
export class GatewayMetrics {
  readonly decisionLatency = new Histogram(
    'croupier_decision_latency_seconds',
    'Server time of one carousel decision, from the frame read to the reply written.',
    LATENCY_BUCKETS_S,
  );
  /** Where a decision's server time goes (the rest is parsing, dispatch, waits for the event loop, encoding). */
  readonly decisionSteps = new DecisionStepHistograms(
    'croupier_decision_step_seconds',
    "Time of each step of a carousel decision on the reply's path: features, scoring (the model run), sampling.",
    LATENCY_BUCKETS_S,
  );
  readonly batchSize = new Histogram(
    'croupier_scoring_batch_size',
    'Requests scored together in one model run.',
    BATCH_BUCKETS,
  );
  /** Observed by the change-feed cache, once per click an applied entry names: never on a decision's path. */
  readonly clickFreshness = new Histogram(
    'croupier_click_freshness_seconds',
    "Time from a click's Kafka timestamp until the gateway's change-feed cache applied it.",
    FRESHNESS_BUCKETS_S,
  );
  readonly decisionRate = new RateWindow(10);
  decisions = 0;
  pushes = 0;
  decisionErrors = 0;
  feedback = 0;
  messages = 0;
  badMessages = 0;
  /** Messages whose handler failed unexpectedly (answered with CROUPIER_ERR_GATEWAY_INTERNAL). */
  handlerErrors = 0;
  /** Carousels dealt but not delivered (the socket closed or overflowed): not logged as impressions. */
  undelivered = 0;
  /** Feedback on an item the referenced carousel did not show this user: acknowledged, never folded. */
  uncountedFeedback = 0;
  /**
   * Shown items whose model score was outside [0, 1] (NaN, say: a model that passed the load-time probe can still
   * give one on live rows): ranked on their counts, logged without a score.
   */
  invalidScores = 0;
  rateLimited = 0;
  authFailures = 0;
  connections = 0;
  connectionsRejected = 0;
  backpressureCloses = 0;
  /** Model version of the last decision dealt. */
  modelVersion = '';
  /** The propensity thread's counts, when the gateway has one (src/decision/propensity-offload.ts). */
  propensityThread: (() => PropensityOffloadStats) | null = null;

  recordDecision(
    serverTimeUs: number,
    timings?: { featuresUs: number; scoringUs: number; samplingUs: number },
  ): void {
    this.decisions++;
    this.decisionRate.add(1);
    this.decisionLatency.observe(serverTimeUs / 1e6);
    if (timings === undefined) return;
    this.decisionSteps.observe('features', timings.featuresUs / 1e6);
    this.decisionSteps.observe('scoring', timings.scoringUs / 1e6);
    this.decisionSteps.observe('sampling', timings.samplingUs / 1e6);
  }
}
