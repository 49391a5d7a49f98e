/**
 * `croupier stream`: runs the stream topology (clickstream and CDC into Redis, exactly once) until
 * SIGINT/SIGTERM. Kafka, the schema registry and Redis come from the config; each one left empty there is
 * started embedded in this process (broker on broker.port, registry, a child redis-server).
 */
import type { Command } from 'commander';
import { startEmbeddedServices } from '../../app/embedded.ts';
import { createShutdownStack, untilSignal } from '../../app/shutdown.ts';
import { startTopologyOn } from '../../app/topology-on-endpoints.ts';
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

      const topology = await startTopologyOn(config, endpoints, logger, { prepare: true });
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
