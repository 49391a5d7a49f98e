/**
 * `croupier serve`: the carousel gateway (WebSocket + HTTP on one port) over the configured Redis, Kafka and
 * schema registry; whichever of them the config leaves empty is started embedded. The stream topology is
 * not started here (`croupier start` runs the whole loop).
 */
import type { Command } from 'commander';
import { startEmbeddedServices } from '../../app/embedded.ts';
import { registryAuth } from '../../app/prepare-topics.ts';
import { createRedisClient } from '../../app/redis-client.ts';
import { createShutdownStack, untilSignal } from '../../app/shutdown.ts';
import { startServing } from '../../gateway/serving.ts';
import { createLogger } from '../../log/logger.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';

export function registerServeCommand(program: Command): void {
  withConfigFlags(
    program
      .command('serve')
      .description(
        'run the carousel gateway until SIGINT/SIGTERM (embedded Redis, broker and registry where the config names none); prints the page URL',
      ),
  ).action(async (_flags, command: Command) => {
    const config = configFromCommand(command);
    const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, name: 'gateway' });
    const shutdown = createShutdownStack(logger);
    try {
      const embedded = await startEmbeddedServices(config, logger);
      shutdown.push(() => embedded.close());
      const { endpoints } = embedded;
      const redis = createRedisClient(endpoints);
      shutdown.push(async () => redis.disconnect());
      const auth = registryAuth(config);
      const serving = await startServing({
        config,
        logger,
        redis,
        brokers: endpoints.brokers,
        registryUrl: endpoints.registryUrl,
        ...(auth ? { registryAuth: auth } : {}),
        ...(embedded.redisDisk ? { redisDisk: embedded.redisDisk } : {}),
      });
      shutdown.push(() => serving.close());
      process.stdout.write(`croupier gateway: ${serving.gateway.url}\n`);
    } catch (error) {
      await shutdown.close();
      throw error;
    }
    await untilSignal(logger, 'the gateway');
    await shutdown.close();
    logger.flush();
  });
}
