/**
 * What `/readyz` and `/metrics` say about the state behind the gateway: the live reader's partitions (whole, held
 * while Redis lost or rebuilds them, followed through a rebuild) and, where the process runs the stream topology
 * (`croupier start`), its progress: lag, partitions not advancing, rebuilds, restarts.
 */
import type { StreamMetricsSnapshot } from '../../streams/metrics.ts';
import type { LiveStateFreshness, LiveStateHealth } from '../state/live-reader/index.ts';
import { counterLines, gaugeLines, labelValue } from './metrics.ts';

/** The stream topology as the process that runs it sees it. */
export interface StreamHealthReport {
  /** False while the topology is down or restarting. */
  running: boolean;
  /** The metrics it last reported (null before the first report). */
  metrics: StreamMetricsSnapshot | null;
  /** Milliseconds since that report. */
  ageMs: number;
  /** Times it was restarted after stopping unexpectedly. */
  restarts: number;
}

export interface StateHealthSources {
  health?: () => LiveStateHealth;
  stream?: () => StreamHealthReport;
  /** A topology report older than this says the topology is not reporting (default 10 s). */
  maxReportAgeMs?: number;
}

/** Reasons the state behind the gateway is not ready (none: ready). */
export function stateHealthReasons(sources: StateHealthSources): string[] {
  const reasons = [...(sources.health?.().reasons ?? [])];
  const stream = sources.stream?.();
  if (stream === undefined) return reasons;
  if (!stream.running) reasons.push('stream topology is not running (starting or restarting)');
  else if (stream.metrics === null) reasons.push('stream topology has not reported yet');
  else if (stream.ageMs > (sources.maxReportAgeMs ?? 10_000)) {
    reasons.push(`stream topology last reported ${Math.round(stream.ageMs)} ms ago`);
  }
  const lastError = stream.metrics?.lastError ? `; last error: ${stream.metrics.lastError}` : '';
  for (const [partition, ms] of Object.entries(stream.metrics?.stalled ?? {})) {
    const behind = stream.metrics?.lagByPartition[partition] ?? 0;
    reasons.push(
      `stream partition ${partition} has not advanced for ${Math.round(ms / 1000)} s (${behind} records waiting${lastError})`,
    );
  }
  return reasons;
}

/**
 * Warnings of the state behind the gateway that do not take it out of rotation: partitions another member of the
 * topology's consumer group holds that stand still with records waiting. Every gateway reads them from Redis, so
 * they are stale for all; a warning, not a reason, since during another croupier's failover (its session timeout) a
 * reason would take every replica out of rotation at once.
 */
export function stateHealthWarnings(stream: StreamHealthReport | undefined): string[] {
  const warnings = Object.entries(stream?.metrics?.stalledElsewhere ?? {}).map(
    ([partition, { ms, waiting }]) =>
      `stream partition ${partition}, held by another member of the topology's consumer group, has not advanced ` +
      `for ${Math.round(ms / 1000)} s (${waiting} records waiting): another croupier is slow or stopped, or a ` +
      'client that is not croupier joined the group (stream.groupId)',
  );
  const failingMs = stream?.running ? (stream.metrics?.failingForMs ?? 0) : 0;
  if (failingMs >= RETRYING_WARN_MS) warnings.unshift(retryingWarning(failingMs, stream?.metrics?.lastError));
  return warnings;
}

/**
 * How long the topology retries before `/readyz` warns of it. Redis refusing its writes (`OOM` at its maxmemory)
 * stands the state still for every replica alike, while carousels are still dealt from memory: a warning, not a
 * reason, long before the partitions are named as stalled (`stream.stallAfterMs`).
 */
export const RETRYING_WARN_MS = 5000;

const retryingWarning = (ms: number, lastError: string | null | undefined): string =>
  `stream topology has retried for ${Math.round(ms / 1000)} s a call that has not succeeded since (last error: ` +
  `${lastError ?? 'unknown'}): the state stands still meanwhile; carousels are dealt from memory`;

/** One metric with a sample per label value. */
export function labelled(
  name: string,
  help: string,
  type: 'gauge' | 'counter',
  label: string,
  values: Record<string, number>,
): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [key, value] of Object.entries(values))
    lines.push(`${name}{${label}="${labelValue(key)}"} ${value}`);
  return lines.join('\n');
}

/** The `/metrics` text for the live reader's partitions and the topology's progress ('' when neither is known). */
export function stateHealthMetricsText(
  fresh: LiveStateFreshness | undefined,
  stream: StreamHealthReport | undefined,
): string {
  const lines = stateHealthMetricLines(fresh, stream);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Prometheus lines for the live reader's partitions and the topology's progress. */
export function stateHealthMetricLines(
  fresh: LiveStateFreshness | undefined,
  stream: StreamHealthReport | undefined,
): string[] {
  const parts: string[] = [];
  if (fresh !== undefined) {
    parts.push(
      gaugeLines(
        'croupier_cache_held_partitions',
        'Partitions Redis lost or is rebuilding, served from the last good copy.',
        fresh.heldPartitions,
      ),
      gaugeLines(
        'croupier_cache_rebuilding_partitions',
        'Partitions the cache follows through a rebuild (no whole copy to keep).',
        fresh.rebuildingPartitions,
      ),
      counterLines(
        'croupier_cache_evicted_users_total',
        'Idle users evicted from the cache.',
        fresh.evictedUsers,
      ),
      counterLines(
        'croupier_cache_evicted_items_total',
        'Counts of deleted items evicted from the cache.',
        fresh.evictedItems,
      ),
    );
  }
  if (stream === undefined) return parts;
  const m = stream.metrics;
  parts.push(
    gaugeLines('croupier_stream_running', 'Whether the stream topology is running.', stream.running ? 1 : 0),
    counterLines(
      'croupier_stream_restarts_total',
      'Restarts of the stream topology after it stopped unexpectedly.',
      stream.restarts,
    ),
    gaugeLines(
      'croupier_stream_report_age_seconds',
      'Time since the stream topology last reported.',
      stream.ageMs / 1000,
    ),
  );
  if (m === null) return parts;
  parts.push(
    counterLines('croupier_stream_records_total', 'Records the topology applied to Redis.', m.records),
    gaugeLines('croupier_stream_lag_records', 'Records fetched but not yet applied, all partitions.', m.lag),
    labelled(
      'croupier_stream_partition_lag_records',
      'Records fetched but not yet applied, per partition.',
      'gauge',
      'partition',
      m.lagByPartition,
    ),
    gaugeLines(
      'croupier_stream_stalled_partitions',
      'Partitions with records waiting that are not advancing.',
      Object.keys(m.stalled).length,
    ),
    labelled(
      'croupier_stream_partition_stalled_seconds',
      'Time a partition with records waiting has not advanced.',
      'gauge',
      'partition',
      Object.fromEntries(Object.entries(m.stalled).map(([k, ms]) => [k, ms / 1000])),
    ),
    gaugeLines(
      'croupier_stream_stalled_elsewhere_partitions',
      "Partitions another member of the topology's consumer group holds, with records waiting, not advancing.",
      Object.keys(m.stalledElsewhere).length,
    ),
    gaugeLines(
      'croupier_stream_rebuilding_partitions',
      'Partitions whose lost state the topology is folding again.',
      Object.keys(m.rebuilding).length,
    ),
    counterLines(
      'croupier_stream_state_losses_total',
      'Partitions found lost in Redis and folded again from Kafka.',
      m.stateLosses,
    ),
    counterLines(
      'croupier_stream_log_restarts_total',
      'Partitions whose Kafka log started again below the offset Redis holds, followed from the new log start.',
      m.logRestarts,
    ),
    counterLines(
      'croupier_stream_records_missed_total',
      'Records removed from the Kafka log before they were applied (the partition went on from the log start).',
      m.recordsMissed,
    ),
    counterLines('croupier_stream_rewinds_total', 'Seeks back to the offset Redis holds.', m.rewinds),
    counterLines('croupier_stream_retries_total', 'Waits on Redis or the registry.', m.retries),
    gaugeLines(
      'croupier_stream_retrying_seconds',
      'Seconds the longest-failing call the stream topology still retries has failed (a partition batch Redis refuses, the registry unavailable); 0 when none is retried.',
      Math.round(m.failingForMs / 100) / 10,
    ),
    labelled(
      'croupier_stream_dead_letters_total',
      'Records dead-lettered, per error code.',
      'counter',
      'code',
      m.deadLetters,
    ),
  );
  return parts;
}
