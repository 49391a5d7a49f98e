/**
 * The log end of every positioned partition, asked of the broker every `everyMs`, apart from what the consumer
 * fetches. Lag and stalls are otherwise learned from fetched batches only, and a fetch that never returns a
 * batch (a batch the consumer cannot decode fails its whole fetch, again and again) would leave a partition
 * behind without anyone seeing it. With the log end known, such a partition counts its lag and shows as stalled
 * on /readyz and /metrics after `stream.stallAfterMs`; the consumer's crash reason is the topology's last error.
 * A log end before the offset Redis holds is a log that started again, which the assignment tracker follows.
 */
import type { Admin, Consumer } from 'kafkajs';
import { settleWithin } from '../../src/domain/settle.ts';
import type { Logger } from '../../src/log/logger.ts';
import { type AssignmentTracker, partitionKeyOf } from '../assignment.ts';
import type { StreamMetrics } from '../metrics.ts';

export interface LogEndWatch {
  stop(): Promise<void>;
}

/** Longest a stop waits for a read of the log ends in flight. */
const STOP_WAIT_MS = 1000;

export function watchLogEnds(options: {
  admin: Admin;
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
    const positioned = assignments.positioned();
    const topics = [...new Set(positioned.map((c) => c.tp.topic))];
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      for (const end of ends) {
        const cursor = assignments.cursor(topic, end.partition);
        if (!cursor?.ready) continue;
        const high = Number(end.high);
        metrics.fetched(partitionKeyOf(topic, end.partition), high, cursor.applied);
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
      await settleWithin(polling, STOP_WAIT_MS);
    },
  };
}
