/**
 * The log end of every positioned partition, asked of the broker every `everyMs`, apart from what the consumer
 * fetches. Lag and stalls are otherwise learned from fetched batches only, and a fetch that never returns a
 * batch (a batch the consumer cannot decode fails its whole fetch, again and again) would leave a partition
 * behind without anyone seeing it. With the log end known, such a partition counts its lag and shows as stalled
 * on /readyz and /metrics after `stream.stallAfterMs`; the consumer's crash reason is the topology's last error.
 * A log end before the offset Redis holds is a log that started again, which the assignment tracker follows.
 * The partitions another member of the group holds are watched too, through the offset Redis holds of them: one
 * that stands still with records waiting is reported (`stalledElsewhere`), whoever holds it.
 */
import type { Admin, Consumer } from 'kafkajs';
import { settleWithin } from '../../src/domain/settle.ts';
import type { Logger } from '../../src/log/logger.ts';
import { type AssignmentTracker, partitionKeyOf } from '../assignment.ts';
import type { StreamMetrics } from '../metrics.ts';

export interface LogEndWatch {
  stop(): Promise<void>;
}

export function watchLogEnds(options: {
  admin: Admin;
  /** The topics the topology consumes. */
  topics: readonly string[];
  /** The offset Redis holds of a partition (what was applied of it, by any member). */
  readOffset: (tp: { topic: string; partition: number }) => Promise<number>;
  consumer: Consumer;
  assignments: AssignmentTracker;
  metrics: StreamMetrics;
  logger: Logger;
  everyMs: number;
}): LogEndWatch {
  const { admin, consumer, assignments, metrics, logger } = options;
  const removeCrashListener = consumer.on(consumer.events.CRASH, (event) => {
    const { error, restart } = event.payload;
    metrics.lastError = `the consumer stopped: ${error.message}`;
    logger.error(
      { err: error, restart },
      'the stream consumer stopped; its partitions do not advance until it can',
    );
  });
  let polling: Promise<void> | null = null;
  async function poll(): Promise<void> {
    // Every partition of the topics, not only this member's: one that another member holds (another croupier, or a
    // client that is not croupier's and joined the group) is watched through the offset Redis holds of it.
    for (const topic of options.topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      for (const end of ends) {
        const cursor = assignments.cursor(topic, end.partition);
        const key = partitionKeyOf(topic, end.partition);
        if (cursor === undefined) {
          const applied = await options.readOffset({ topic, partition: end.partition });
          // Assigned here meanwhile: this member's own watch takes it.
          if (assignments.cursor(topic, end.partition) === undefined)
            metrics.heldElsewhere(key, Number(end.high), applied);
          continue;
        }
        metrics.notHeldElsewhere(key);
        if (!cursor.ready) continue;
        const high = Number(end.high);
        metrics.fetched(key, high, cursor.applied);
        // A log that ended before an offset already applied may have started again: checked afresh (the stored
        // offset, then the log range), and followed from its start.
        if (high <= cursor.applied) await assignments.checkLogRange(cursor);
      }
    }
  }
  const timer = setInterval(() => {
    polling ??= poll()
      .catch((error: unknown) =>
        logger.debug({ err: error }, 'could not read the log ends; trying again later'),
      )
      .finally(() => {
        polling = null;
      });
  }, options.everyMs);
  return {
    async stop() {
      clearInterval(timer);
      removeCrashListener();
      // A read against a broker that is gone retries for many seconds: the stop does not wait for it.
      await settleWithin(polling);
    },
  };
}
