/**
 * The gateway's `/metrics` page in the Prometheus text exposition format (version 0.0.4), rendered from a
 * table: one row per metric (name, help, type, value getter), in the order they appear on the page. The
 * histograms come first (click freshness only with a change-feed cache); the model version and the cache's rows
 * only when there is one.
 */
import { readThreads, type ThreadReading } from '../log/thread-cpu.ts';
import type { LiveStateFreshness } from '../state/live-reader/index.ts';
import type { EventLogStats } from './event-log.ts';
import { counterLines, type GatewayMetrics, gaugeLines, labelValue } from './metrics.ts';

/** What one scrape reads: the gateway's counters and what its parts report now. */
export interface MetricsSources {
  metrics: GatewayMetrics;
  events: EventLogStats;
  /** Open WebSocket connections. */
  connections: number;
  /** Active carousel subscriptions. */
  subscriptions: number;
  /** The change-feed cache's freshness; undefined when the view has none. */
  freshness: LiveStateFreshness | undefined;
}

interface MetricRow<S> {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  value: (source: S) => number;
}

const GATEWAY_ROWS: readonly MetricRow<MetricsSources>[] = [
  {
    name: 'croupier_decisions_total',
    help: 'Carousels dealt (requests and pushes).',
    type: 'counter',
    value: (s) => s.metrics.decisions,
  },
  {
    name: 'croupier_decisions_per_second',
    help: 'Carousels dealt per second, last 10 s.',
    type: 'gauge',
    value: (s) => s.metrics.decisionRate.perSecond(),
  },
  {
    name: 'croupier_pushes_total',
    help: 'Carousels pushed to subscriptions.',
    type: 'counter',
    value: (s) => s.metrics.pushes,
  },
  {
    name: 'croupier_decision_errors_total',
    help: 'Decisions that failed.',
    type: 'counter',
    value: (s) => s.metrics.decisionErrors,
  },
  {
    name: 'croupier_feedback_total',
    help: 'Feedback messages accepted.',
    type: 'counter',
    value: (s) => s.metrics.feedback,
  },
  {
    name: 'croupier_messages_total',
    help: 'WebSocket messages received.',
    type: 'counter',
    value: (s) => s.metrics.messages,
  },
  {
    name: 'croupier_bad_messages_total',
    help: 'Messages refused as malformed.',
    type: 'counter',
    value: (s) => s.metrics.badMessages,
  },
  {
    name: 'croupier_undelivered_carousels_total',
    help: 'Carousels dealt but not delivered (not logged as impressions).',
    type: 'counter',
    value: (s) => s.metrics.undelivered,
  },
  {
    name: 'croupier_uncounted_feedback_total',
    help: 'Feedback on items the referenced carousel did not show (acknowledged, not folded).',
    type: 'counter',
    value: (s) => s.metrics.uncountedFeedback,
  },
  {
    name: 'croupier_invalid_scores_total',
    help: 'Shown items whose model score was outside [0, 1] (NaN, say): ranked on their counts, logged without a score.',
    type: 'counter',
    value: (s) => s.metrics.invalidScores,
  },
  {
    name: 'croupier_handler_errors_total',
    help: 'Messages whose handler failed unexpectedly.',
    type: 'counter',
    value: (s) => s.metrics.handlerErrors,
  },
  {
    name: 'croupier_rate_limited_total',
    help: 'Messages dropped by the per-connection rate limit.',
    type: 'counter',
    value: (s) => s.metrics.rateLimited,
  },
  {
    name: 'croupier_auth_failures_total',
    help: 'Hellos refused for a missing or bad token.',
    type: 'counter',
    value: (s) => s.metrics.authFailures,
  },
  {
    name: 'croupier_backpressure_disconnects_total',
    help: 'Slow clients disconnected past gateway.maxBackpressureBytes.',
    type: 'counter',
    value: (s) => s.metrics.backpressureCloses,
  },
  {
    name: 'croupier_connections_rejected_total',
    help: 'Upgrades refused at gateway.maxConnections.',
    type: 'counter',
    value: (s) => s.metrics.connectionsRejected,
  },
  {
    name: 'croupier_connections',
    help: 'Open WebSocket connections.',
    type: 'gauge',
    value: (s) => s.connections,
  },
  {
    name: 'croupier_subscriptions',
    help: 'Active carousel subscriptions.',
    type: 'gauge',
    value: (s) => s.subscriptions,
  },
  {
    name: 'croupier_events_sent_total',
    help: 'Events the event log delivered to Kafka.',
    type: 'counter',
    value: (s) => s.events.sent,
  },
  {
    name: 'croupier_events_shed_total',
    help: 'Events shed because Kafka did not keep up.',
    type: 'counter',
    value: (s) => s.events.shed,
  },
  {
    name: 'croupier_events_invalid_total',
    help: 'Events dropped because they could not be encoded.',
    type: 'counter',
    value: (s) => s.events.invalid,
  },
  {
    name: 'croupier_events_queued',
    help: 'Events waiting for Kafka.',
    type: 'gauge',
    value: (s) => s.events.queued,
  },
  {
    name: 'croupier_event_log_connected',
    help: 'Whether the event log producer is connected.',
    type: 'gauge',
    value: (s) => (s.events.connected ? 1 : 0),
  },
  {
    name: 'croupier_propensities_offloaded_total',
    help: 'Carousels whose logged propensities the propensity threads integrated.',
    type: 'counter',
    value: (s) => s.metrics.propensityThread?.().offloaded ?? 0,
  },
  {
    name: 'croupier_propensities_inline_total',
    help: 'Carousels whose propensities the main thread integrated because the propensity threads were behind or had failed.',
    type: 'counter',
    value: (s) => {
      const stats = s.metrics.propensityThread?.();
      return stats === undefined ? 0 : stats.refused + stats.failed;
    },
  },
  {
    name: 'croupier_propensity_backlog',
    help: 'Carousels queued for or on the propensity threads.',
    type: 'gauge',
    value: (s) => s.metrics.propensityThread?.().backlog ?? 0,
  },
];

const CACHE_ROWS: readonly MetricRow<LiveStateFreshness>[] = [
  {
    name: 'croupier_cache_sync_age_seconds',
    help: 'Time since the cache last read every change feed.',
    type: 'gauge',
    value: (f) => f.lastSyncAgeMs / 1000,
  },
  {
    name: 'croupier_cache_apply_delay_seconds',
    help: 'Delay from a change-feed entry being written to the cache applying it (newest entry).',
    type: 'gauge',
    value: (f) => (f.lastApplyDelayMs ?? 0) / 1000,
  },
  {
    name: 'croupier_cache_entries_applied_total',
    help: 'Change-feed entries applied.',
    type: 'counter',
    value: (f) => f.entriesApplied,
  },
  {
    name: 'croupier_cache_resnapshots_total',
    help: 'Partition snapshots retaken after falling behind.',
    type: 'counter',
    value: (f) => f.resnapshots,
  },
  {
    name: 'croupier_cache_malformed_entries_total',
    help: 'Change-feed values skipped as malformed.',
    type: 'counter',
    value: (f) => f.malformedEntries,
  },
];

function renderRow<S>(row: MetricRow<S>, source: S): string {
  const value = row.value(source);
  return row.type === 'counter'
    ? counterLines(row.name, row.help, value)
    : gaugeLines(row.name, row.help, value);
}

/** CPU, busy event-loop time and memory per croupier thread (src/log/thread-cpu.ts); CPU only where it is known. */
function threadLines(threads: readonly ThreadReading[]): string {
  const cpu = 'croupier_thread_cpu_seconds_total';
  const busy = 'croupier_thread_event_loop_active_seconds_total';
  const lines = [
    `# HELP ${cpu} CPU seconds (user and system) each croupier thread of this process used (Linux).`,
    `# TYPE ${cpu} counter`,
  ];
  for (const t of threads)
    if (t.cpuSeconds !== null) lines.push(`${cpu}{thread="${labelValue(t.thread)}"} ${t.cpuSeconds}`);
  lines.push(
    `# HELP ${busy} Seconds each croupier thread's event loop was busy (not waiting for I/O or timers).`,
    `# TYPE ${busy} counter`,
  );
  for (const t of threads)
    lines.push(
      `${busy}{thread="${labelValue(t.thread)}"} ${Math.round(t.eventLoopActiveSeconds * 1e6) / 1e6}`,
    );
  const memory = 'croupier_thread_memory_bytes';
  lines.push(
    `# HELP ${memory} Memory each croupier thread holds: kind="heap_used" and "heap_total" its V8 heap, "external" its Buffers and other memory outside the heap (worker threads report every 5 s).`,
    `# TYPE ${memory} gauge`,
  );
  for (const t of threads) {
    if (t.memory === null) continue;
    const thread = labelValue(t.thread);
    lines.push(
      `${memory}{thread="${thread}",kind="heap_used"} ${t.memory.heapUsed}`,
      `${memory}{thread="${thread}",kind="heap_total"} ${t.memory.heapTotal}`,
      `${memory}{thread="${thread}",kind="external"} ${t.memory.external}`,
    );
  }
  return lines.join('\n');
}

/** The whole `/metrics` page. */
export function renderMetricsText(sources: MetricsSources): string {
  const { metrics, freshness } = sources;
  const parts = [
    metrics.decisionLatency.render(),
    metrics.decisionSteps.render(),
    metrics.batchSize.render(),
  ];
  if (freshness !== undefined) parts.push(metrics.clickFreshness.render());
  for (const row of GATEWAY_ROWS) parts.push(renderRow(row, sources));
  if (metrics.modelVersion !== '') {
    parts.push(
      gaugeLines(
        'croupier_model_info',
        'Model version serving.',
        1,
        `{version="${labelValue(metrics.modelVersion)}"}`,
      ),
    );
  }
  if (freshness !== undefined) for (const row of CACHE_ROWS) parts.push(renderRow(row, freshness));
  parts.push(threadLines(readThreads()));
  return `${parts.join('\n')}\n`;
}
