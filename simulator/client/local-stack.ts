/**
 * The whole loop on one machine for simulations, load tests and their tests: a `redis-server` child on a
 * free port, the embedded broker and schema registry, the stream topology and the gateway (`startServing`),
 * all from one config. The caller publishes the catalog as CDC events and talks to `wsUrl`.
 */
import { Redis } from 'ioredis';
import { startBroker } from '../../src/broker/index.ts';
import { type Config, type ConfigInput, parseConfig } from '../../src/config/index.ts';
import { startRedisServer } from '../../src/embedded/redis-server.ts';
import { type ServingHandle, startServing } from '../../src/gateway/serving.ts';
import { createEventCodec, createKafka } from '../../src/kafka/index.ts';
import type { Logger } from '../../src/log/logger.ts';
import { startSchemaRegistry } from '../../src/registry/index.ts';
import { loadSchemas } from '../../streams/schemas/index.ts';
import { startStreamTopology } from '../../streams/topology.ts';
import { createKafkaCdcPublisher, type KafkaCdcPublisher } from './kafka-publisher.ts';

export interface LocalStack {
  readonly config: Readonly<Config>;
  readonly wsUrl: string;
  readonly brokers: string[];
  readonly registryUrl: string;
  readonly serving: ServingHandle;
  /** A CDC publisher on the stack's Kafka (topics created). */
  readonly publisher: KafkaCdcPublisher;
  close(): Promise<void>;
}

export async function startLocalStack(input: ConfigInput, logger: Logger): Promise<LocalStack> {
  const config = parseConfig(input);
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const redisServer = await startRedisServer({ binary: config.redis.serverBinary });
    closers.push(() => redisServer.close());
    const redis = new Redis({ host: redisServer.host, port: redisServer.port });
    closers.push(async () => redis.disconnect());
    const broker = await startBroker({
      host: '127.0.0.1',
      port: 0,
      defaultPartitions: config.kafka.partitions,
      // Short consumer sessions (stream.sessionTimeoutMs) are allowed, as in tests.
      groupMinSessionTimeoutMs: 1000,
      logger: logger.child({ component: 'broker' }),
    });
    closers.push(() => broker.close());
    const registry = await startSchemaRegistry({
      host: '127.0.0.1',
      port: 0,
      logger: logger.child({ component: 'registry' }),
    });
    closers.push(() => registry.close());
    const brokers = [broker.address];
    const kafka = createKafka(config.kafka, brokers, { logger });
    const codec = createEventCodec({ registryUrl: registry.url, schemas: loadSchemas(), logger });
    const admin = kafka.admin();
    await admin.connect();
    const t = config.kafka.topics;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [t.clickstream, t.cdcItems, t.cdcUsers, t.deadLetter].map((topic) => ({
        topic,
        numPartitions: topic === t.deadLetter ? 1 : config.kafka.partitions,
      })),
    });
    await admin.disconnect();
    const topology = await startStreamTopology({
      config,
      kafka,
      codec,
      redis,
      logger: logger.child({ component: 'stream' }),
    });
    closers.push(() => topology.close());
    const serving = await startServing({ config, logger, redis, brokers, registryUrl: registry.url });
    closers.push(() => serving.close());
    const publisher = await createKafkaCdcPublisher({
      kafka,
      codec,
      topics: t,
      partitions: config.kafka.partitions,
    });
    closers.push(() => publisher.close());
    const address = new URL(serving.gateway.url);
    return {
      config,
      wsUrl: `ws://${address.host}/ws`,
      brokers,
      registryUrl: registry.url,
      serving,
      publisher,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
