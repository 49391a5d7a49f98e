import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster } from '../../src/embedded/redis-cluster.ts';
import { startRedisServer } from '../../src/embedded/redis-server.ts';
import { silentLogger } from '../../src/log/logger.ts';
import type { RedisClient } from '../../src/state/writer/index.ts';
import type { ClickstreamEvent } from '../../streams/schemas/index.ts';
import { type StreamTopology, startStreamTopology } from '../../streams/topology.ts';
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

/** Every counter of every partition equals the reference fold of that partition's events. */
async function expectReferenceState(
  client: RedisClient,
  prefix: string,
  topic: string,
  byPartition: ClickstreamEvent[][],
  recentClicks: number,
): Promise<void> {
  for (const [partition, events] of byPartition.entries()) {
    const ref = emptyReference();
    const shown = new Map<string, string>();
    for (const e of events) referenceApply(ref, shown, e, recentClicks, DEFAULT_EXAMINATION);
    const diff = await compareWithReference(client, prefix, { topic, partition }, ref, {
      halfLifeMs: 24 * 3600 * 1000,
    });
    expect(diff).toEqual([]);
  }
}

/**
 * Produces a clickstream, runs the topology until Redis holds every offset, and compares with the reference.
 * With `during`, half the events are produced before the topology starts and the rest by `produceRest`, which
 * `during` calls when it likes (e.g. while Redis is down).
 */
async function foldThroughTopology(
  client: RedisClient,
  seed: number,
  during?: (topology: StreamTopology, produceRest: () => Promise<void>) => Promise<void>,
) {
  const prefix = `test:${seed}:${Date.now()}:`;
  const topics = testTopics(`t${seed}x${Date.now()}`);
  await createTopics(stack.admin, topics, PARTITIONS);
  const config = topologyConfig({
    kafka: { topics },
    redis: { keyPrefix: prefix },
    stream: { maxBatchRecords: 300, recentClicks: 5, retryInitialMs: 20, retryMaxMs: 200 },
  });
  const events = generateClickstream({ seed, users: 40, items: 30, requests: 1500 });
  const split = during ? Math.floor(events.length / 2) : events.length;
  const first = await produceClickstream(stack, topics.clickstream, events.slice(0, split), PARTITIONS);
  const byPartition = first.map((p) => [...p]);
  const produceRest = async () => {
    const rest = await produceClickstream(stack, topics.clickstream, events.slice(split), PARTITIONS);
    for (const [i, p] of rest.entries()) byPartition[i].push(...p);
  };
  const topology = await startStreamTopology({
    config,
    kafka: stack.kafka,
    codec: stack.codec,
    redis: client,
    logger: silentLogger(),
  });
  try {
    await during?.(topology, produceRest);
    const last = byPartition.map((p) => p.length - 1);
    await waitForOffsets(client, prefix, config.stream.groupId, topics.clickstream, last);
  } finally {
    await topology.close();
  }
  await expectReferenceState(client, prefix, topics.clickstream, byPartition, 5);
  // Read once closed: the reply to the last batch has been handled.
  const metrics = topology.metrics();
  expect(metrics.deadLetters).toEqual({});
  return { metrics, events: events.length, prefix, topic: topics.clickstream };
}

describe('stream topology over the embedded broker and a real redis-server', () => {
  it('folds every event into Redis exactly as the reference fold does', async () => {
    const run = await foldThroughTopology(redis.client, 11);
    expect(run.metrics.records).toBe(run.events);
  });

  it('pauses while Redis is down and resumes from the stored offsets when it is back', async () => {
    const server = await startRedisServer({ appendOnly: true });
    const client = new Redis({ host: server.host, port: server.port, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined); // refused connections while the server is down are expected
    let restarted = server;
    try {
      const run = await foldThroughTopology(client, 12, async (topology, produceRest) => {
        await server.kill();
        // Events keep coming while Redis is down; it comes back (same port, its AOF) once the topology hit it.
        await produceRest();
        const deadline = Date.now() + 20_000;
        while (topology.metrics().retries === 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 20));
        restarted = await startRedisServer({ appendOnly: true, port: server.port, dir: server.dir });
      });
      expect(run.metrics.retries).toBeGreaterThan(0);
    } finally {
      client.disconnect();
      await restarted.close();
    }
  });
});

describe('stream topology on a Redis Cluster of 3 masters', () => {
  it('folds every event exactly as on a single Redis, each batch script in one slot', async () => {
    const cluster = await startRedisCluster(3);
    const client = new Cluster(
      cluster.seeds.map((seed) => ({ host: seed.split(':')[0], port: Number(seed.split(':')[1]) })),
    );
    try {
      const run = await foldThroughTopology(client, 13);
      // The partitions' keys live on more than one master: scripts ran on several nodes, each in one slot.
      const owners = new Set<string>();
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const slot = Number(
          await client.call('CLUSTER', 'KEYSLOT', `${run.prefix}{${run.topic}:${partition}}:offsets`),
        );
        owners.add(String(client.slots[slot]?.[0]));
      }
      expect(owners.size).toBeGreaterThan(1);
    } finally {
      client.disconnect();
      await cluster.close();
    }
  });
});
