/** The topology's progress line, logged every `stream.logIntervalMs`: throughput, lag, stalls, dead letters. */
import type { Logger } from '../../src/log/logger.ts';
import type { StreamMetrics } from '../metrics.ts';

/** Starts logging; clear the returned interval to stop. */
export function logProgressEvery(metrics: StreamMetrics, logger: Logger, intervalMs: number): NodeJS.Timeout {
  return setInterval(() => {
    const m = metrics.snapshot(true);
    logger.info(
      {
        recordsPerSecond: m.recordsPerSecond,
        records: m.records,
        batches: m.batches,
        averageBatchSize: m.averageBatchSize,
        maxBatchSize: m.maxBatchSize,
        lag: m.lag,
        ...(Object.keys(m.stalled).length > 0 ? { stalled: m.stalled } : {}),
        deadLetters: m.deadLetters,
        retries: m.retries,
      },
      Object.keys(m.stalled).length > 0 ? 'stream progress: partitions not advancing' : 'stream progress',
    );
  }, intervalMs);
}
