/**
 * Positions every assigned partition at the offset Redis holds, not at the committed Kafka offset.
 *
 * kafkajs 2.2.4 emits GROUP_JOIN after each rebalance, just before it starts fetching, and does not wait for
 * listeners. So the listener first pauses every assigned partition (synchronously: no fetch can return their
 * records), then reads the stored offsets (retrying while Redis is unavailable: the partitions stay paused),
 * seeks each partition to stored + 1 and resumes. Seeks are only honoured by kafkajs for partitions of the
 * current assignment and are applied at the next fetch; with `autoCommit: false` a seek does not commit
 * (with auto-commit kafkajs would commit the sought offset to the group). A newer rebalance supersedes an
 * older one still reading offsets.
 *
 * Every `checkEveryMs` it also reads the stored offset and marker of each positioned partition: a stored offset
 * below the one this consumer applied means Redis lost the partition's state (a restart without persistence, a
 * FLUSHALL, a failover to a replica that lagged). The partition is then marked as rebuilding (readers keep their
 * last good copy) and sought back to what Redis holds (the log start when nothing is left), so it is folded
 * again from Kafka at once, whether or not new records arrive.
 *
 * It also compares the offset Redis holds with the partition's log range (Kafka's "offset out of range"), when
 * positioning, whenever the log ends are read, and when a fetched batch says the log ends before that offset:
 * - the next offset past the log end (the broker lost its log, or the topic was deleted and made again, while Redis
 *   kept its state): a new log. The folded state is kept and the stored offset moves to just before the new log's
 *   start (one atomic script that checks the offset it replaces, `startNewLog`), so every record of the new log is
 *   applied exactly once; a crash before the script leaves the offset past the log end, found again, and one after
 *   it leaves the new position, so the repair happens once;
 * - the next offset below the log start (retention removed records before they were applied): they are gone; the
 *   partition goes on from the log start and the records missed are counted.
 * Both are logged with the partition, the stored offset and the log range, and counted on /metrics.
 */

import type { Consumer as KafkaConsumer } from 'kafkajs';
import { defer, firstValueFrom } from 'rxjs';
import type { Logger } from '../src/log/logger.ts';
import type { TopicPartition } from '../src/state/layout/index.ts';
import type { StateWriter } from '../src/state/writer/index.ts';
import type { StreamMetrics } from './metrics.ts';
import { type BackoffOptions, retryWithBackoff } from './operators/retry-with-backoff.ts';

/** What this consumer knows of one assigned partition. */
export interface PartitionCursor {
  readonly tp: TopicPartition;
  /** Last offset applied in Redis, as far as this consumer knows. */
  applied: number;
  /** Positioned at `applied + 1`: its batches may be applied. */
  ready: boolean;
  /** Bumped by every seek back: batches fetched before it are dropped. */
  epoch: number;
  /** Its stored offset is being compared with the log range (and moved to a new log's start). */
  checkingLog: boolean;
}

/** A partition's log: its first offset and its high watermark (the offset after its last record). */
export interface LogRange {
  low: number;
  high: number;
}

export interface AssignmentTracker {
  /** The cursor of a partition of the current assignment, if assigned. */
  cursor(topic: string, partition: number): PartitionCursor | undefined;
  /** The cursors of the current assignment positioned at the offset Redis holds. */
  positioned(): PartitionCursor[];
  /** Seeks a partition back to the offset Redis holds (after Redis lost writes). */
  rewind(cursor: PartitionCursor, applied: number): void;
  /**
   * Compares the offset Redis holds of a positioned partition with its log range (read from the broker after it)
   * and follows a log that started again below it. Never rejects: a failure is logged, the next check retries.
   */
  checkLogRange(cursor: PartitionCursor): Promise<void>;
  stop(): void;
}

export const partitionKeyOf = (topic: string, partition: number): string => `${topic}:${partition}`;

/** What the reading of an assignment's stored offsets is called while it is retried (metrics.ts). */
const READING_OFFSETS = 'reading the stored offsets';

export function trackAssignments(options: {
  consumer: KafkaConsumer;
  store: StateWriter;
  metrics: StreamMetrics;
  logger: Logger;
  backoff: BackoffOptions;
  /** How often the stored state of every positioned partition is checked for loss (0: never). */
  checkEveryMs?: number;
  /** The log range of every partition of a topic, from the broker; without it, ranges are never checked. */
  logRanges?: (topic: string) => Promise<ReadonlyMap<number, LogRange>>;
}): AssignmentTracker {
  const { consumer, store, metrics, logger } = options;
  let generation = 0;
  let stopped = false;
  let cursors = new Map<string, PartitionCursor>();

  function rewind(cursor: PartitionCursor, applied: number): void {
    cursor.applied = applied;
    cursor.epoch++;
    metrics.rewinds++;
    consumer.seek({ topic: cursor.tp.topic, partition: cursor.tp.partition, offset: String(applied + 1) });
    logger.warn(
      { ...cursor.tp, offset: applied + 1 },
      'Redis holds an earlier offset: reading the partition again from there',
    );
  }

  /** Compares what Redis holds of a positioned partition with what this consumer applied. */
  async function checkStoredState(cursor: PartitionCursor): Promise<void> {
    // A log found started again moves the stored offset back: that is no loss of state.
    if (cursor.checkingLog) return;
    const applied = cursor.applied;
    const epoch = cursor.epoch;
    const stored = await store.readPartitionState(cursor.tp);
    const key = partitionKeyOf(cursor.tp.topic, cursor.tp.partition);
    if (stopped || cursors.get(key) !== cursor || cursor.checkingLog) return;
    metrics.rebuildingUntil(key, stored.rebuildUntil);
    if (applied < 0 || stored.offset >= applied || cursor.epoch !== epoch) return;
    metrics.stateLosses++;
    logger.error(
      { partition: key, applied, stored: stored.offset, marker: stored.epoch !== null },
      'Redis lost state of this partition: folding it again from Kafka while readers keep their last good copy',
    );
    await store.markRebuild(cursor.tp, applied);
    if (cursors.get(key) === cursor && cursor.epoch === epoch) rewind(cursor, stored.offset);
  }

  async function rangeOf(tp: TopicPartition): Promise<LogRange | undefined> {
    return (await options.logRanges?.(tp.topic))?.get(tp.partition);
  }

  /**
   * A stored offset past the end of the log: the log started again. Moves the stored offset to just before the new
   * log's start and resolves to it, or to null when the stored offset changed meanwhile (the next check sees it).
   */
  async function followNewLog(tp: TopicPartition, stored: number, range: LogRange): Promise<number | null> {
    const partition = partitionKeyOf(tp.topic, tp.partition);
    const outcome = await store.startNewLog(tp, stored, range.low);
    if (outcome.status !== 'applied') return null;
    metrics.logRestarted(partition, range.low - 1);
    logger.error(
      { partition, storedOffset: stored, logStart: range.low, logEnd: range.high },
      `the Kafka log of ${partition} starts again: Redis holds offset ${stored} (next ${stored + 1}) but the log ` +
        `holds offsets [${range.low}, ${range.high}) (the broker lost its log, or the topic was made again). ` +
        `Keeping the folded state and applying every record of the new log from offset ${range.low}`,
    );
    return range.low - 1;
  }

  /** A stored offset below the log start: the records between were removed before they were applied. */
  function reportMissed(tp: TopicPartition, stored: number, range: LogRange): void {
    const partition = partitionKeyOf(tp.topic, tp.partition);
    const missed = range.low - stored - 1;
    metrics.recordsMissed += missed;
    logger.error(
      { partition, storedOffset: stored, logStart: range.low, logEnd: range.high, missed },
      `${missed} records of ${partition} were removed from the Kafka log before they were applied: Redis holds ` +
        `offset ${stored} but the log starts at ${range.low}. Going on from the log start; their effect is lost ` +
        '(keep the topic longer than the topology can be down)',
    );
  }

  async function checkLogRange(cursor: PartitionCursor): Promise<void> {
    if (!cursor.ready || cursor.checkingLog || stopped) return;
    const key = partitionKeyOf(cursor.tp.topic, cursor.tp.partition);
    const current = () => !stopped && cursors.get(key) === cursor;
    cursor.checkingLog = true;
    try {
      // The stored offset first, then the log range: every offset applied by then is in the log read after it
      // (unless the log started again), so a log that merely grew meanwhile is never taken for a new one.
      const stored = await store.readOffset(cursor.tp);
      if (stored < 0 || !current()) return;
      const range = await rangeOf(cursor.tp);
      if (range === undefined || !current() || stored + 1 <= range.high) return;
      // A batch applied meanwhile moves the stored offset, and the script then writes nothing (it checks it).
      const from = await followNewLog(cursor.tp, stored, range);
      if (from === null || !current()) return;
      // Batches fetched before the seek are dropped (they hold offsets of the new log below its end: read again).
      cursor.applied = from;
      cursor.epoch++;
      consumer.seek({ topic: cursor.tp.topic, partition: cursor.tp.partition, offset: String(from + 1) });
    } catch (error) {
      logger.warn(
        { err: error, partition: key },
        'could not compare the stored offset with the log range; checking again with the next log ends',
      );
    } finally {
      cursor.checkingLog = false;
    }
  }

  const positionedCursors = () => [...cursors.values()].filter((c) => c.ready);

  let checking = false;
  const checkTimer =
    options.checkEveryMs && options.checkEveryMs > 0
      ? setInterval(() => {
          if (checking || stopped) return;
          checking = true;
          const positioned = positionedCursors();
          void Promise.all(
            positioned.map((c) =>
              checkStoredState(c).catch((error: unknown) =>
                logger.debug({ err: error, ...c.tp }, 'could not check the stored state; trying again later'),
              ),
            ),
          ).finally(() => {
            checking = false;
          });
        }, options.checkEveryMs)
      : undefined;

  async function position(gen: number, assigned: PartitionCursor[], byTopic: Record<string, number[]>) {
    const current = () => gen === generation && !stopped;
    let offsets: number[];
    try {
      offsets = await firstValueFrom(
        defer(() => Promise.all(assigned.map((c) => store.readOffset(c.tp)))).pipe(
          retryWithBackoff({
            ...options.backoff,
            shouldRetry: current,
            onRetriesEnd: () => metrics.retriesEnded(READING_OFFSETS),
            onRetry: (error, attempt, waitMs) => {
              metrics.retried(error, READING_OFFSETS);
              logger.warn(
                { err: error, attempt, waitMs },
                'cannot read stored offsets; partitions stay paused',
              );
            },
          }),
        ),
      );
    } catch {
      return; // superseded by a newer assignment, or stopping
    }
    if (!current()) return;
    // The stored offsets against the log ranges (best effort: a failure leaves it to the next check).
    const seekTo = offsets.map((o) => o + 1);
    try {
      const ranges = new Map<string, Promise<ReadonlyMap<number, LogRange> | undefined>>();
      for (const [i, cursor] of assigned.entries()) {
        const { topic, partition } = cursor.tp;
        if (!ranges.has(topic)) ranges.set(topic, Promise.resolve(options.logRanges?.(topic)));
        const range = (await ranges.get(topic))?.get(partition);
        if (!current()) return;
        if (range === undefined) continue;
        const stored = offsets[i];
        if (stored >= 0 && stored + 1 > range.high) {
          const from = await followNewLog(cursor.tp, stored, range);
          if (from !== null) offsets[i] = from;
          seekTo[i] = offsets[i] + 1;
        } else if (stored + 1 < range.low) {
          if (stored >= 0) reportMissed(cursor.tp, stored, range);
          seekTo[i] = range.low;
        }
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not compare the stored offsets with the log ranges; checking later');
    }
    if (!current()) return;
    assigned.forEach((cursor, i) => {
      cursor.applied = offsets[i];
      consumer.seek({
        topic: cursor.tp.topic,
        partition: cursor.tp.partition,
        offset: String(seekTo[i]),
      });
      cursor.ready = true;
    });
    consumer.resume(Object.entries(byTopic).map(([topic, partitions]) => ({ topic, partitions })));
    logger.info(
      { partitions: assigned.map((c) => `${partitionKeyOf(c.tp.topic, c.tp.partition)}@${c.applied + 1}`) },
      'partitions assigned, positioned at the offsets stored in Redis',
    );
  }

  const removeListener = consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const byTopic = event.payload.memberAssignment as Record<string, number[]>;
    const gen = ++generation;
    const next = new Map<string, PartitionCursor>();
    for (const [topic, partitions] of Object.entries(byTopic)) {
      consumer.pause([{ topic, partitions }]);
      for (const partition of partitions) {
        next.set(partitionKeyOf(topic, partition), {
          tp: { topic, partition },
          applied: -1,
          ready: false,
          epoch: 0,
          checkingLog: false,
        });
      }
    }
    cursors = next;
    metrics.assignedPartitions = next.size;
    metrics.forgetPartitions(new Set(next.keys()));
    void position(gen, [...next.values()], byTopic);
  });

  return {
    cursor: (topic, partition) => cursors.get(partitionKeyOf(topic, partition)),
    positioned: positionedCursors,
    rewind,
    checkLogRange,
    stop() {
      stopped = true;
      clearInterval(checkTimer);
      removeListener();
    },
  };
}
