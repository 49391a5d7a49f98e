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
}

export interface AssignmentTracker {
  /** The cursor of a partition of the current assignment, if assigned. */
  cursor(topic: string, partition: number): PartitionCursor | undefined;
  /** The cursors of the current assignment positioned at the offset Redis holds. */
  positioned(): PartitionCursor[];
  /** Seeks a partition back to the offset Redis holds (after Redis lost writes). */
  rewind(cursor: PartitionCursor, applied: number): void;
  stop(): void;
}

export const partitionKeyOf = (topic: string, partition: number): string => `${topic}:${partition}`;

export function trackAssignments(options: {
  consumer: KafkaConsumer;
  store: StateWriter;
  metrics: StreamMetrics;
  logger: Logger;
  backoff: BackoffOptions;
  /** How often the stored state of every positioned partition is checked for loss (0: never). */
  checkEveryMs?: number;
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
    const applied = cursor.applied;
    const epoch = cursor.epoch;
    const stored = await store.readPartitionState(cursor.tp);
    const key = partitionKeyOf(cursor.tp.topic, cursor.tp.partition);
    if (stopped || cursors.get(key) !== cursor) return;
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
            onRetry: (error, attempt, waitMs) => {
              metrics.retries++;
              metrics.lastError = (error as Error).message;
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
    assigned.forEach((cursor, i) => {
      cursor.applied = offsets[i];
      consumer.seek({
        topic: cursor.tp.topic,
        partition: cursor.tp.partition,
        offset: String(offsets[i] + 1),
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
    stop() {
      stopped = true;
      clearInterval(checkTimer);
      removeListener();
    },
  };
}
