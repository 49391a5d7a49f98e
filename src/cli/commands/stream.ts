/**
 * `croupier stream`: runs the stream topology (clickstream and CDC into Redis, exactly once) until
 * SIGINT/SIGTERM. Kafka, the schema registry and Redis come from the config; each one left empty there is
 * started embedded in this process (broker on broker.port, registry, a child redis-server).
 */
import type { Command } from 'commander';
import { Cluster, Redis } from 'ioredis';
import { loadSchemas } from '../../../streams/schemas/index.ts';
import { startStreamTopology } from '../../../streams/topology.ts';
import { startBroker } from '../../broker/index.ts';
import { startRedisServer } from '../../embedded/redis-server.ts';
import { createEventCodec, createKafka } from '../../kafka/index.ts';
import { createLogger } from '../../log/logger.ts';
import { connectSchemaRegistry } from '../../registry/index.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';

export function registerStreamCommand(program: Command): void {
  withConfigFlags(
    program
      .command('stream')
      .description(
        'fold the clickstream and CDC topics into Redis exactly once until SIGINT/SIGTERM; logs lag, events/s, batch sizes and dead letters',
      ),
  ).action(async (_flags: unknown, command: Command) => {
    const config = configFromCommand(command);
    const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, name: 'stream' });
    const stops: (() => Promise<void>)[] = [];

    let brokers = config.kafka.brokers;
    if (brokers.length === 0) {
      const broker = await startBroker({
        host: config.broker.host,
        port: config.broker.port,
        dataDir: config.broker.dataDir || undefined,
        defaultPartitions: config.kafka.partitions,
        logger,
      });
      stops.unshift(() => broker.close());
      brokers = [broker.address];
      process.stdout.write(`embedded broker: ${broker.address}\n`);
    }
    const registry = await connectSchemaRegistry(config.schemaRegistry, { logger });
    stops.unshift(() => registry.close());

    let redis: Redis | Cluster;
    if (config.redis.clusterNodes.length > 0) {
      redis = new Cluster(
        config.redis.clusterNodes.map((node) => {
          const [host, port] = node.split(':');
          return { host, port: Number(port) };
        }),
      );
    } else if (config.redis.url) {
      redis = new Redis(config.redis.url);
    } else {
      const server = await startRedisServer({ binary: config.redis.serverBinary });
      stops.unshift(() => server.close());
      redis = new Redis({ host: server.host, port: server.port });
      process.stdout.write(`embedded redis: ${server.url}\n`);
    }
    redis.on('error', (error: Error) =>
      logger.warn({ err: error }, 'redis connection error; the topology retries'),
    );
    stops.unshift(async () => redis.disconnect());

    const kafka = createKafka(config.kafka, brokers, { logger });
    const admin = kafka.admin();
    await admin.connect();
    const t = config.kafka.topics;
    await admin.createTopics({
      topics: [t.clickstream, t.cdcItems, t.cdcUsers, t.deadLetter].map((topic) => ({
        topic,
        numPartitions: config.kafka.partitions,
      })),
    });
    await admin.disconnect();
    const codec = createEventCodec({
      registryUrl: registry.url,
      auth: registry.auth,
      schemas: loadSchemas(),
      logger,
    });
    await codec.registerAll(t);

    const topology = await startStreamTopology({ config, kafka, codec, redis, logger });
    stops.unshift(() => topology.close());
    process.stdout.write(
      `stream topology: consumer group ${config.stream.groupId}, topics ${t.clickstream}, ${t.cdcItems}, ${t.cdcUsers}\n`,
    );

    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        logger.info({ signal }, 'stopping the stream topology');
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    for (const stop of stops) await stop();
    logger.flush();
  });
}
