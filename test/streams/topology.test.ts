import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.ts';
import { startStreamTopology } from '../../streams/topology.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { compareWithReference } from './support/compare-state.ts';
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

const PARTITIONS = 4;
let stack: KafkaStack;
let redis: TestRedis;

beforeAll(async () => {
  [stack, redis] = await Promise.all([startKafkaStack(), startTestRedis()]);
});
afterAll(async () => {
  await stack?.close();
  await redis?.close();
});

describe('stream topology over the embedded broker and a real redis-server', () => {
  it('folds every event into Redis exactly as the reference fold does', async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`t${Date.now()}`);
    await createTopics(stack.admin, topics, PARTITIONS);
    const config = topologyConfig({
      kafka: { topics },
      redis: { keyPrefix: prefix },
      stream: { maxBatchRecords: 300, recentClicks: 5 },
    });
    const events = generateClickstream({ seed: 11, users: 40, items: 30, requests: 1500 });
    const byPartition = await produceClickstream(stack, topics.clickstream, events, PARTITIONS);
    const topology = await startStreamTopology({
      config,
      kafka: stack.kafka,
      codec: stack.codec,
      redis: redis.client,
      logger: silentLogger(),
    });
    try {
      await waitForOffsets(
        redis.client,
        prefix,
        config.stream.groupId,
        topics.clickstream,
        byPartition.map((p) => p.length - 1),
      );
      const m = topology.metrics();
      expect(m.records).toBe(events.length);
      expect(m.deadLetters).toEqual({});
    } finally {
      await topology.close();
    }
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const ref = emptyReference();
      const shown = new Map<string, string>();
      for (const e of byPartition[partition]) referenceApply(ref, shown, e, 5);
      const diff = await compareWithReference(
        redis.client,
        prefix,
        { topic: topics.clickstream, partition },
        ref,
        { halfLifeMs: config.stream.decayHalfLifeSeconds * 1000 },
      );
      expect(diff).toEqual([]);
    }
  });
});
