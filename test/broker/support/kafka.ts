/** Shared helpers of the broker tests: kafkajs clients against a test broker, waiting, collecting. */
import { Kafka, logLevel } from 'kafkajs';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

export function kafkaClient(brokers: string[], clientId = 'test'): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 50, retries: 8 },
  });
}

/** Consumer settings that make group changes quick in tests. */
export const FAST_GROUP = {
  sessionTimeout: 3000,
  rebalanceTimeout: 4000,
  heartbeatInterval: 100,
  maxWaitTimeInMs: 100,
} as const;

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let counter = 0;
/** A topic or group name unique within the run. */
export function unique(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}`;
}
