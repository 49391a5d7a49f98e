/**
 * What the dashboard reads, as plain data handed in by whoever runs it (the gateway wires these from its own
 * counters, the live reader, the topology's reports and the experiments config). The dashboard imports none of
 * those parts: it sits below them and only sees these shapes.
 */
import type { StreamMetricsSnapshot } from '../../streams/metrics.ts';
import type { ArchiveMetricsSnapshot } from '../domain/archive-report.ts';
import type { ArmStats, ItemInfo } from '../domain/decision.ts';
import type { ExperimentsConfig } from '../experiments/config.ts';
import type { LiveStateFreshness } from '../state/live-reader/index.ts';

/** A histogram's buckets at one moment: each bucket's own count, values above the last bound in none. */
export interface BucketCounts {
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** The gateway's counters at one moment (totals since start, except the gauges). */
export interface ServingSample {
  decisions: number;
  pushes: number;
  /** Decisions that failed plus handlers that failed unexpectedly. */
  errors: number;
  badMessages: number;
  undelivered: number;
  rateLimited: number;
  connectionsRejected: number;
  backpressureCloses: number;
  eventsSent: number;
  eventsShed: number;
  eventsQueued: number;
  eventLogConnected: boolean;
  connections: number;
  subscriptions: number;
  /** The model version of the last decision ('' before the first). */
  modelVersion: string;
  /** Server time of a decision, seconds. */
  latency: BucketCounts;
  /** Requests scored together in one model run. */
  batchSize: BucketCounts;
}

/** The stream topology as the process that runs it sees it (`croupier start`). */
export interface TopologyReport {
  running: boolean;
  metrics: StreamMetricsSnapshot | null;
  ageMs: number;
  restarts: number;
}

/** The archive's counters, where this process runs it. */
export type ArchiveReport = ArchiveMetricsSnapshot;

/** One run of a scheduled job, as the run ledger (src/jobs/ledger.ts) holds it. */
export interface JobRunView {
  status: 'running' | 'succeeded' | 'failed';
  /** The data interval the run covers, ms. */
  start: number;
  end: number;
  startedAt: number;
  finishedAt: number | null;
  attempts: number;
  error: string | null;
  /** What the job returned (a train run: version, promoted, gate; a shadow run: its summary; `skipped`: why not). */
  result: Readonly<Record<string, unknown>> | null;
}

/** Training, the post-promotion watch and shadow tests, read from the run ledger and the model registry. */
export interface JobsReport {
  training: {
    /** The schedule this process's config gives the job ('every 10m'); null: not scheduled here. */
    schedule: string | null;
    lastRun: JobRunView | null;
    /** The registry's active model. */
    activeModel: string;
    /** The model the last run trained, with the registry's metrics of it (holdout log loss, AUC, …). */
    candidate: { version: string; metrics: Readonly<Record<string, number>> } | null;
    /** The gate's decision on that candidate: promoted or kept, and its checks (`pass`/`FAIL` name: detail). */
    gate: { promoted: boolean; checks: readonly string[] } | null;
  };
  watch: {
    schedule: string | null;
    /** The promotion the watch has not concluded on yet (null: none). */
    watching: { at: string; from: string; to: string } | null;
    /** The registry's last promotion, rollback or kept promotion, with its reason. */
    lastEvent: { at: string; action: string; from: string; to: string; reason: string } | null;
    lastRun: JobRunView | null;
  };
  shadow: { schedule: string | null; lastRun: JobRunView | null };
}

/** One record of a topic the dashboard tails: the topic, and the decoded value for the clickstream. */
export interface TailedRecord {
  topic: string;
  /** Kafka's timestamp, ms. */
  timestamp: number;
  /** The decoded clickstream event (Impression, Click, …); undefined for the other topics. */
  event?: { schemaName: string; value: Readonly<Record<string, unknown>> };
}

/** A running tail of the topics; started once the first viewer opens the page. */
export interface TopicTail {
  close(): Promise<void>;
}

/** Starts a tail that hands every record to `onRecord` (from the beginning of each topic). */
export type StartTopicTail = (onRecord: (record: TailedRecord) => void) => Promise<TopicTail>;

export interface DashboardSources {
  serving(): ServingSample;
  /** The live item pool and its posterior counts. */
  view: { items(): readonly ItemInfo[]; arm(itemId: string, segment: string): ArmStats };
  freshness?(): LiveStateFreshness | undefined;
  /** Seconds from clicks' Kafka timestamps until the cache applied them, as a histogram (totals since start). */
  clickFreshness?(): BucketCounts;
  topology?(): TopologyReport | undefined;
  archive?(): ArchiveReport | undefined;
  experiments?(): ExperimentsConfig | undefined;
  /** Training, the watch and shadow tests; read every few seconds while somebody watches, never per tick. */
  jobs?(): Promise<JobsReport>;
  /** The clickstream (experiments, scores, shadow slates) and records per topic; absent: those panels say so. */
  tail?: StartTopicTail;
}
