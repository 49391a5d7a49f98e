/**
 * Once a second while somebody watches: reads the sources, turns counters into rates and histograms into
 * quantiles, and hands every viewer the same snapshot; keeps the last few minutes of the time series so a page
 * opened late draws its charts at once. The topic tail starts with the first viewer and runs until `close()`.
 */
import type { Logger } from '../log/logger.ts';
import { BucketWindow, bucketQuantile } from './bucket-window.ts';
import { ClickstreamTally } from './clickstream-tally.ts';
import { type ExperimentFigures, experimentFigures } from './experiment-rows.ts';
import { type SegmentLeaders, segmentLeaders } from './posterior-leaders.ts';
import type {
  ArchiveReport,
  BucketCounts,
  DashboardSources,
  JobsReport,
  ServingSample,
  TopicTail,
} from './sources.ts';

/** One point of the charts' time series. */
export interface SeriesPoint {
  /** Seconds since the epoch. */
  t: number;
  carouselsPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  p999Ms: number | null;
  errorsPerSecond: number;
  /** Records per second per tailed topic. */
  topics: Record<string, number>;
  /** Records the topology applied per second, and its lag (all partitions). */
  appliedPerSecond: number | null;
  lag: number | null;
  /** Time from a click's Kafka timestamp until the cache applied it, quantiles of the last 10 s; null: no click. */
  freshnessP50Ms: number | null;
  freshnessP99Ms: number | null;
}

export interface DashboardSnapshot {
  point: SeriesPoint;
  serving: {
    totals: Omit<ServingSample, 'latency' | 'batchSize'>;
    /** Seconds the latency quantiles and batch sizes cover. */
    windowSeconds: number;
    batchSizes: { bounds: readonly number[]; counts: readonly number[] };
    /** Scores of shown items in equal bins over [0, 1], for one model version; null without the tail. */
    scores: { model: string; bins: number[] } | null;
  };
  stream: {
    topology: {
      running: boolean;
      restarts: number;
      reportAgeSeconds: number;
      lagByPartition: Record<string, number>;
      stalled: Record<string, number>;
      deadLetters: Record<string, number>;
      lastError: string | null;
    } | null;
    cache: {
      syncAgeMs: number;
      applyDelayMs: number | null;
      heldPartitions: number;
      rebuildingPartitions: number;
      /** Clicks the cache applied in the last `windowSeconds` (the freshness quantiles of `point` read them). */
      clicks: number;
    } | null;
  };
  learning: {
    segments: SegmentLeaders[];
    /** Share of shown slots the shadow policy would have filled otherwise, per shadow policy; null without the tail. */
    shadow: { policy: string; slots: number; differ: number }[] | null;
  };
  experiments: { tailing: boolean; configured: string[]; rows: ExperimentFigures[] };
  jobs: {
    archive: ArchiveReport | null;
    /** Training, the watch and shadow tests as last read (every few seconds); null before the first read or without. */
    report: JobsReport | null;
    /** Why the last read failed, or null. */
    reportError: string | null;
    /** False where this process has no way to read them (no run ledger). */
    reported: boolean;
  };
}

export type DashboardListener = (snapshot: DashboardSnapshot) => void;

export interface DashboardCollector {
  /** Adds a viewer: it gets every snapshot from the next tick on. Returns the unsubscribe function. */
  subscribe(listener: DashboardListener): () => void;
  /** The kept time series, oldest first. */
  history(): SeriesPoint[];
  close(): Promise<void>;
}

export interface CollectorOptions {
  intervalMs?: number;
  /** Points of the time series kept (default 300: five minutes). */
  historySize?: number;
  logger: Logger;
}

const WINDOW_SECONDS = 10;
/** How often the jobs report is read while somebody watches. */
const JOBS_READ_MS = 5000;
const SEGMENTS_SHOWN = 3;

function configuredExperiments(sources: DashboardSources): string[] {
  return (sources.experiments?.()?.layers ?? []).flatMap((l) => l.experiments.map((e) => e.name));
}

export function createDashboardCollector(
  sources: DashboardSources,
  options: CollectorOptions,
): DashboardCollector {
  const intervalMs = options.intervalMs ?? 1000;
  const historySize = options.historySize ?? 300;
  const listeners = new Set<DashboardListener>();
  const series: SeriesPoint[] = [];
  const latency = new BucketWindow(WINDOW_SECONDS);
  const batches = new BucketWindow(WINDOW_SECONDS);
  const clickFreshness = new BucketWindow(WINDOW_SECONDS);
  const tally = new ClickstreamTally();
  let timer: NodeJS.Timeout | undefined;
  let tail: Promise<TopicTail | undefined> | undefined;
  let jobsReport: JobsReport | null = null;
  let jobsError: string | null = null;
  let jobsReadAt = 0;
  let jobsReading = false;
  /** Reads the jobs report in the background, at most every JOBS_READ_MS and one read at a time. */
  const readJobs = (now: number) => {
    const read = sources.jobs;
    if (read === undefined || jobsReading || now - jobsReadAt < JOBS_READ_MS) return;
    jobsReading = true;
    jobsReadAt = now;
    read()
      .then((report) => {
        jobsReport = report;
        jobsError = null;
      })
      .catch((error: unknown) => {
        jobsError = (error as Error).message;
      })
      .finally(() => {
        jobsReading = false;
      });
  };
  let previous: { at: number; serving: ServingSample; topics: Map<string, number>; applied: number } | null =
    null;

  const startTail = () => {
    if (tail !== undefined || sources.tail === undefined) return;
    tail = sources
      .tail((record) => tally.add(record))
      .catch((error: unknown) => {
        options.logger.warn({ err: error }, 'dashboard: could not tail the topics; their panels stay empty');
        return undefined;
      });
  };

  const snapshot = (): DashboardSnapshot => {
    const now = Date.now();
    const serving = sources.serving();
    const topology = sources.topology?.();
    const applied = topology?.metrics?.records ?? 0;
    const seconds = previous === null ? 1 : Math.max(0.001, (now - previous.at) / 1000);
    const rate = (a: number, b: number | undefined) => (b === undefined ? 0 : Math.max(0, a - b) / seconds);
    const ms = (window: BucketCounts | null, q: number) => {
      const s = window === null ? null : bucketQuantile(window, q);
      return s === null ? null : s * 1000;
    };
    const window = latency.push(serving.latency);
    const fresh = sources.freshness?.();
    const freshBuckets = sources.clickFreshness?.();
    const clicks = freshBuckets === undefined ? null : clickFreshness.push(freshBuckets);
    const topics: Record<string, number> = {};
    for (const [topic, count] of tally.recordsByTopic)
      topics[topic] = rate(count, previous?.topics.get(topic));
    const point: SeriesPoint = {
      t: now / 1000,
      carouselsPerSecond: rate(serving.decisions, previous?.serving.decisions),
      p50Ms: ms(window, 0.5),
      p99Ms: ms(window, 0.99),
      p999Ms: ms(window, 0.999),
      errorsPerSecond: rate(serving.errors, previous?.serving.errors),
      topics,
      appliedPerSecond: topology?.metrics ? rate(applied, previous?.applied) : null,
      lag: topology?.metrics?.lag ?? null,
      freshnessP50Ms: ms(clicks, 0.5),
      freshnessP99Ms: ms(clicks, 0.99),
    };
    previous = { at: now, serving, topics: new Map(tally.recordsByTopic), applied };
    const batchWindow = batches.push(serving.batchSize);
    const { latency: _l, batchSize: _b, ...totals } = serving;
    const m = topology?.metrics;
    const items = sources.view.items();
    const segments = [...tally.segments]
      .sort((a, b) => b[1] - a[1])
      .slice(0, SEGMENTS_SHOWN)
      .map(([s]) => s);
    const config = sources.experiments?.();
    const tailing = sources.tail !== undefined;
    return {
      point,
      serving: {
        totals,
        windowSeconds: WINDOW_SECONDS,
        batchSizes: { bounds: batchWindow.bounds, counts: batchWindow.counts },
        scores: tailing ? { model: tally.scoreModel, bins: Array.from(tally.scoreBins) } : null,
      },
      stream: {
        topology:
          topology === undefined
            ? null
            : {
                running: topology.running,
                restarts: topology.restarts,
                reportAgeSeconds: topology.ageMs / 1000,
                lagByPartition: m?.lagByPartition ?? {},
                stalled: m?.stalled ?? {},
                deadLetters: m?.deadLetters ?? {},
                lastError: m?.lastError ?? null,
              },
        cache:
          fresh === undefined
            ? null
            : {
                syncAgeMs: fresh.lastSyncAgeMs,
                applyDelayMs: fresh.lastApplyDelayMs,
                heldPartitions: fresh.heldPartitions,
                rebuildingPartitions: fresh.rebuildingPartitions,
                clicks: clicks?.count ?? 0,
              },
      },
      learning: {
        segments: ['*', ...segments].map((s) => segmentLeaders(items, sources.view.arm, s)),
        shadow: tailing ? [...tally.shadow].map(([policy, c]) => ({ policy, ...c })) : null,
      },
      experiments: {
        tailing,
        configured: configuredExperiments(sources),
        rows: [...tally.experimentCounts()].map(([name, c]) => experimentFigures(name, c, config)),
      },
      jobs: {
        archive: sources.archive?.() ?? null,
        report: jobsReport,
        reportError: jobsError,
        reported: sources.jobs !== undefined,
      },
    };
  };

  const tick = () => {
    readJobs(Date.now());
    let shot: DashboardSnapshot;
    try {
      shot = snapshot();
    } catch (error) {
      options.logger.warn({ err: error }, 'dashboard: a snapshot failed');
      return;
    }
    series.push(shot.point);
    if (series.length > historySize) series.shift();
    for (const listener of listeners) listener(shot);
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      startTail();
      readJobs(Date.now());
      if (timer === undefined) timer = setInterval(tick, intervalMs);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
    history: () => [...series],
    async close() {
      clearInterval(timer);
      timer = undefined;
      listeners.clear();
      const running = await tail;
      await running?.close().catch(() => undefined);
    },
  };
}
