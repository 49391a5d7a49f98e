/**
 * `croupier stream`: runs the stream topology (clickstream and CDC into Redis, exactly once) until
 * SIGINT/SIGTERM. Kafka, the schema registry and Redis come from the config; each one left empty there is
 * started embedded in this process (broker on broker.port, registry, a child redis-server).
 */
import type { Command } from 'commander';
import { loadSchemas } from '../../../streams/schemas/index.ts';
import { startStreamTopology } from '../../../streams/topology.ts';
import { startEmbeddedServices } from '../../app/embedded.ts';
import { createRedisClient } from '../../app/redis-client.ts';
import { createShutdownStack, untilSignal } from '../../app/shutdown.ts';
import { prepareTopicsAndSchemas, registryAuth } from '../../app/topics.ts';
import { createEventCodec, createKafka } from '../../kafka/index.ts';
import { createLogger } from '../../log/logger.ts';
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
    const shutdown = createShutdownStack(logger);
    try {
      const embedded = await startEmbeddedServices(config, logger);
      shutdown.push(() => embedded.close());
      const { endpoints } = embedded;
      if (endpoints.embedded.broker) process.stdout.write(`embedded broker: ${endpoints.brokers[0]}\n`);
      if (endpoints.embedded.redis) process.stdout.write(`embedded redis: ${endpoints.redisUrl}\n`);

      const redis = createRedisClient(endpoints);
      redis.on('error', (error: Error) =>
        logger.warn({ err: error }, 'redis connection error; the topology retries'),
      );
      shutdown.push(async () => redis.disconnect());

      const kafka = createKafka(config.kafka, endpoints.brokers, { logger });
      const codec = createEventCodec({
        registryUrl: endpoints.registryUrl,
        auth: registryAuth(config),
        schemas: loadSchemas(),
        logger,
      });
      await prepareTopicsAndSchemas(config, kafka, codec);

      const topology = await startStreamTopology({ config, kafka, codec, redis, logger });
      shutdown.push(() => topology.close());
      const t = config.kafka.topics;
      process.stdout.write(
        `stream topology: consumer group ${config.stream.groupId}, topics ${t.clickstream}, ${t.cdcItems}, ${t.cdcUsers}\n`,
      );
    } catch (error) {
      await shutdown.close();
      throw error;
    }
    await untilSignal(logger, 'the stream topology');
    await shutdown.close();
    logger.flush();
  });
}
