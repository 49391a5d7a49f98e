/**
 * Redis losing a partition's state while the topology runs: the topology notices on its own (no new record has
 * to arrive), marks the partition as rebuilding and folds it again from the log, ending with exactly the state
 * of a reference fold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.ts';
import { partitionKey } from '../../src/state/layout/index.ts';
import { startStreamTopology } from '../../streams/topology.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { compareWithReference, DEFAULT_EXAMINATION } from './support/compare-state.ts';
import { generateClickstream } from './support/events.ts';
import { emptyReference, referenceApply } from './support/reference-fold.ts';
import {
  createTopics,
  type KafkaStack,
  produceClickstream,
  startKafkaStack,
  testTopics,
  topologyConfig,
  waitForOffsets,
} from './support/stack.ts';

const PARTITIONS = 3;
let stack: KafkaStack;
let redis: TestRedis;

beforeAll(async () => {
  [stack, redis] = await Promise.all([startKafkaStack(), startTestRedis()]);
});
afterAll(async () => {
  await stack?.close();
  await redis?.close();
});

async function until(what: string, done: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('stream topology when Redis loses its state', () => {
  it('rebuilds a lost partition from Kafka without waiting for a new record, exactly once', async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`loss${Date.now()}`);
    await createTopics(stack.admin, topics, PARTITIONS);
    const config = topologyConfig({
      kafka: { topics },
      redis: { keyPrefix: prefix },
      stream: { maxBatchRecords: 200, recentClicks: 5, stateCheckMs: 100 },
    });
    const events = generateClickstream({ seed: 31, users: 30, items: 20, requests: 600 });
    const byPartition = await produceClickstream(stack, topics.clickstream, events, PARTITIONS);
    const last = byPartition.map((p) => p.length - 1);
    const topology = await startStreamTopology({
      config,
      kafka: stack.kafka,
      codec: stack.codec,
      redis: redis.client,
      logger: silentLogger(),
    });
    try {
      await waitForOffsets(redis.client, prefix, config.stream.groupId, topics.clickstream, last);
      const marker = (partition: number) =>
        redis.client.hgetall(partitionKey(prefix, { topic: topics.clickstream, partition }, 'marker'));
      const epochs = await Promise.all(last.map((_, p) => marker(p)));
      for (const m of epochs) expect(m).toEqual({ epoch: expect.any(String) });

      // Redis comes back empty (a restart without persistence); nothing new is produced.
      const keys = await redis.client.keys(`${prefix}*`);
      await redis.client.del(...keys);

      await until('every partition is rebuilt', async () => {
        const markers = await Promise.all(last.map((_, p) => marker(p)));
        return markers.every((m) => m.epoch !== undefined && m.rebuildUntil === undefined);
      });
      await waitForOffsets(redis.client, prefix, config.stream.groupId, topics.clickstream, last);
      const rebuilt = await Promise.all(last.map((_, p) => marker(p)));
      for (const [p, m] of rebuilt.entries()) expect(m.epoch).not.toBe(epochs[p].epoch);
      expect(topology.metrics().stateLosses).toBeGreaterThanOrEqual(PARTITIONS);
    } finally {
      await topology.close();
    }
    for (const [partition, partitionEvents] of byPartition.entries()) {
      const ref = emptyReference();
      const shown = new Map<string, string>();
      for (const e of partitionEvents) referenceApply(ref, shown, e, 5, DEFAULT_EXAMINATION);
      const diff = await compareWithReference(
        redis.client,
        prefix,
        { topic: topics.clickstream, partition },
        ref,
        { halfLifeMs: 24 * 3600 * 1000 },
      );
      expect(diff).toEqual([]);
    }
  });
});
