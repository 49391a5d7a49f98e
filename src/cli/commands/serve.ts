/**
 * `croupier serve`: the carousel gateway (WebSocket + HTTP on one port) over the configured Redis, Kafka and
 * schema registry; whichever of them the config leaves empty is started embedded. The stream topology is
 * not started here (`croupier start` runs the whole loop).
 */
import type { Command } from 'commander';
import { Cluster, Redis } from 'ioredis';
import { startBroker } from '../../broker/index.ts';
import { startRedisServer } from '../../embedded/redis-server.ts';
import { startServing } from '../../gateway/serving.ts';
import { createLogger } from '../../log/logger.ts';
import { connectSchemaRegistry } from '../../registry/index.ts';
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
    const closers: (() => Promise<void>)[] = [];
    const closeAll = async () => {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      logger.flush();
    };
    try {
      let redis: Redis | Cluster;
      if (config.redis.clusterNodes.length > 0) {
        redis = new Cluster(
          config.redis.clusterNodes.map((node) => {
            const [host, port] = node.split(':');
            return { host, port: Number(port) };
          }),
          { enableAutoPipelining: true },
        );
      } else if (config.redis.url !== '') {
        redis = new Redis(config.redis.url);
      } else {
        const server = await startRedisServer({ binary: config.redis.serverBinary });
        closers.push(() => server.close());
        redis = new Redis({ host: server.host, port: server.port });
      }
      closers.push(async () => {
        redis.disconnect();
      });
      let brokers = config.kafka.brokers;
      if (brokers.length === 0) {
        const broker = await startBroker({
          host: config.broker.host,
          port: config.broker.port,
          dataDir: config.broker.dataDir || undefined,
          defaultPartitions: config.kafka.partitions,
          logger,
        });
        closers.push(() => broker.close());
        brokers = [broker.address];
      }
      const registry = await connectSchemaRegistry(config.schemaRegistry, { logger });
      closers.push(() => registry.close());
      const serving = await startServing({
        config,
        logger,
        redis,
        brokers,
        registryUrl: registry.url,
        ...(registry.auth ? { registryAuth: registry.auth } : {}),
      });
      closers.push(() => serving.close());
      process.stdout.write(`croupier gateway: ${serving.gateway.url}\n`);
    } catch (error) {
      await closeAll();
      throw error;
    }
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        logger.info({ signal }, 'stopping the gateway');
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await closeAll();
  });
}
