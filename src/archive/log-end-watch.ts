/**
 * The archive's watch on the broker's log ends (see watchArchiveLogEnds), which its progress (progress.ts) needs
 * to tell a stuck partition from a quiet one.
 */
import type { Consumer, Kafka } from 'kafkajs';
import { settleWithin } from '../domain/settle.ts';
import type { Logger } from '../log/logger.ts';
import type { ArchiveMetrics } from './metrics.ts';
import { progressKeyOf } from './progress.ts';

/**
 * The broker's log end of every partition the archive writes, read every `everyMs`: without it a partition whose
 * fetches never return a batch (a consumer that stopped, a fetch failing again and again) would look idle. A
 * consumer crash is the archive's last error.
 */
export function watchArchiveLogEnds(
  kafka: Kafka,
  consumer: Consumer,
  /** The partitions positioned here (their writers), and those waiting to be. */
  positioned: () => readonly { topic: string }[],
  metrics: ArchiveMetrics,
  logger: Logger,
  everyMs: number,
): { stop(): Promise<void> } {
  const removeCrashListener = consumer.on(consumer.events.CRASH, (event) => {
    const { error, restart } = event.payload;
    metrics.lastError = `the archive consumer stopped: ${error.message}`;
    logger.error(
      { err: error, restart },
      'the archive consumer stopped; its partitions do not advance until it can',
    );
  });
  const admin = kafka.admin();
  let connected: Promise<void> | null = null;
  let polling: Promise<void> | null = null;
  async function poll(): Promise<void> {
    const topics = [...new Set(positioned().map((w) => w.topic))];
    if (topics.length === 0) return;
    connected ??= admin.connect();
    await connected;
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const now = Date.now();
      for (const end of ends)
        metrics.progress.logEnd(progressKeyOf(topic, end.partition), Number(end.high), now);
    }
  }
  const timer = setInterval(() => {
    polling ??= poll()
      .catch((error: unknown) => {
        connected = null;
        logger.debug({ err: error }, 'could not read the log ends; trying again later');
      })
      .finally(() => {
        polling = null;
      });
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      removeCrashListener();
      // A read against a broker that is gone retries for many seconds: the stop does not wait for it.
      await settleWithin(polling);
      await admin.disconnect().catch(() => undefined);
    },
  };
}
