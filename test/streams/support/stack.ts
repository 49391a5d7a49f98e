/**
 * The real processes a topology test needs: the embedded broker, the embedded schema registry, and helpers to
 * create topics, produce events with an explicit partition (so the test's reference fold knows where each
 * event went) and wait until Redis holds a given offset of every partition.
 */
import { type Admin, type Kafka, Kafka as KafkaClient, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import type { StartBrokerOptions } from '../../../src/broker/index.ts';
import { type Config, type ConfigInput, configSchema } from '../../../src/config/index.ts';
import { createEventCodec, type EventCodec } from '../../../src/kafka/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { partitionKey } from '../../../src/state/layout/index.ts';
import type { RedisClient } from '../../../src/state/writer/index.ts';
import { type ClickstreamEvent, loadSchemas } from '../../../streams/schemas/index.ts';
import { startStreamTopology } from '../../../streams/topology.ts';
import { startTestBroker, type TestBroker } from '../../support/broker.ts';
import { startTestRedis, type TestRedis } from '../../support/redis.ts';
import { startTestRegistry, type TestRegistry } from '../../support/registry.ts';

export interface KafkaStack {
  broker: TestBroker;
  registry: TestRegistry;
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
  codec: EventCodec;
  close(): Promise<void>;
}

export async function startKafkaStack(brokerOptions: StartBrokerOptions = {}): Promise<KafkaStack> {
  const broker = await startTestBroker(brokerOptions);
  const registry = await startTestRegistry();
  const kafka = new KafkaClient({ brokers: broker.brokers, clientId: 'test', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const codec = createEventCodec({ registryUrl: registry.url, schemas: loadSchemas() });
  return {
    broker,
    registry,
    kafka,
    admin,
    producer,
    codec,
    async close() {
      await producer.disconnect();
      await admin.disconnect();
      await broker.close();
      await registry.close();
    },
  };
}

/**
 * A KafkaStack and a redis-server on a free port for the tests of one file: started before them, closed after.
 * Read the fields inside tests (they are set once `beforeAll` ran).
 */
export function useKafkaStackWithRedis(): { stack: KafkaStack; redis: TestRedis } {
  const world = {} as { stack: KafkaStack; redis: TestRedis };
  beforeAll(async () => {
    [world.stack, world.redis] = await Promise.all([startKafkaStack(), startTestRedis()]);
  });
  afterAll(async () => {
    await world.stack?.close();
    await world.redis?.close();
  });
  return world;
}

/** Topic names unique to one test, so tests sharing a broker never see each other's records. */
export function testTopics(tag: string): Config['kafka']['topics'] {
  return {
    clickstream: `${tag}.clickstream`,
    cdcItems: `${tag}.cdc.items`,
    cdcUsers: `${tag}.cdc.users`,
    deadLetter: `${tag}.dlq`,
  };
}

export async function createTopics(admin: Admin, topics: Config['kafka']['topics'], partitions: number) {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topics.clickstream, numPartitions: partitions },
      { topic: topics.cdcItems, numPartitions: 2 },
      { topic: topics.cdcUsers, numPartitions: 2 },
      { topic: topics.deadLetter, numPartitions: 1 },
    ],
  });
}

export function topologyConfig(input: ConfigInput): Config {
  return configSchema.parse({
    ...input,
    stream: {
      maxBatchMs: 20,
      sessionTimeoutMs: 3000,
      logIntervalMs: 60_000,
      commitIntervalMs: 200,
      ...input.stream,
    },
  });
}

/** The partition of a user, as the test producer assigns it. */
export function partitionOf(userId: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < userId.length; i++) h = (h * 31 + userId.charCodeAt(i)) >>> 0;
  return h % partitions;
}

/** Produces events to their user's partition; returns the events per partition in log order. */
export async function produceClickstream(
  stack: KafkaStack,
  topic: string,
  events: readonly ClickstreamEvent[],
  partitions: number,
): Promise<ClickstreamEvent[][]> {
  const byPartition: ClickstreamEvent[][] = Array.from({ length: partitions }, () => []);
  const messages = [];
  for (const e of events) {
    const partition = partitionOf(e.event.userId, partitions);
    byPartition[partition].push(e);
    messages.push({
      key: e.event.userId,
      partition,
      value: await stack.codec.encode(topic, e.type, e.event as never),
    });
  }
  for (let i = 0; i < messages.length; i += 2000) {
    await stack.producer.send({ topic, acks: -1, messages: messages.slice(i, i + 2000) });
  }
  return byPartition;
}

/** Waits until Redis holds offset `expected[p]` (or later) of every partition `p` of `topic`. */
export async function waitForOffsets(
  redis: RedisClient,
  prefix: string,
  groupId: string,
  topic: string,
  expected: readonly number[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = await Promise.all(
      expected.map((_, partition) =>
        redis.hget(partitionKey(prefix, { topic, partition }, 'offsets'), groupId),
      ),
    );
    if (stored.every((s, p) => Number(s ?? -1) >= expected[p])) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Redis offsets of ${topic} are ${JSON.stringify(stored)}, expected ${JSON.stringify(expected)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs the stream topology over `topics` (test defaults, `stream` on top) until Redis holds the given offset of
 * every partition of each listed topic, then closes it.
 */
export async function foldUntilOffsets(
  stack: KafkaStack,
  redis: RedisClient,
  prefix: string,
  topics: Config['kafka']['topics'],
  offsets: Record<string, readonly number[]>,
  stream: NonNullable<ConfigInput['stream']> = {},
): Promise<void> {
  const config = topologyConfig({ kafka: { topics }, redis: { keyPrefix: prefix }, stream });
  const topology = await startStreamTopology({
    config,
    kafka: stack.kafka,
    codec: stack.codec,
    redis,
    logger: silentLogger(),
  });
  try {
    for (const [topic, expected] of Object.entries(offsets)) {
      await waitForOffsets(redis, prefix, config.stream.groupId, topic, expected);
    }
  } finally {
    await topology.close();
  }
}
