/**
 * Starts what the configuration leaves to croupier itself: a `redis-server` child when no Redis is configured,
 * the embedded broker when no Kafka brokers are, the embedded schema registry when no registry URL is. Returns
 * the endpoints every other part connects to, whichever way they were resolved.
 */
import { type StartBrokerOptions, startBroker } from '../broker/index.ts';
import type { Config } from '../config/index.ts';
import { type DiskSpaceWatch, watchDiskSpace } from '../embedded/disk-space-watch.ts';
import { startSupervisedRedis } from '../embedded/supervised-redis.ts';
import type { Logger } from '../log/logger.ts';
import { startSchemaRegistryThread } from '../registry/index.ts';
import { createShutdownStack } from './shutdown.ts';

export interface Endpoints {
  /** Kafka bootstrap brokers (`host:port`). */
  brokers: string[];
  registryUrl: string;
  /** Redis URL, or '' when `clusterNodes` is used. */
  redisUrl: string;
  redisClusterNodes: string[];
  /** Which parts are embedded (for the start-up log). */
  embedded: { broker: boolean; registry: boolean; redis: boolean };
}

export interface EmbeddedServicesHandle {
  readonly endpoints: Endpoints;
  /** The free space under the embedded redis-server's data directory; undefined when Redis is not embedded. */
  readonly redisDisk: DiskSpaceWatch | undefined;
  close(): Promise<void>;
}

/** Bytes kept per partition by the in-memory broker unless `broker.retentionBytes` says otherwise. */
export const MEMORY_RETENTION_BYTES = 16 * 1024 * 1024;

/** The embedded broker's options from the config. */
export function brokerOptions(config: Readonly<Config>, logger: Logger): StartBrokerOptions {
  return {
    host: config.broker.host,
    port: config.broker.port,
    dataDir: config.broker.dataDir || undefined,
    defaultPartitions: config.kafka.partitions,
    retentionMs: config.broker.retentionMs,
    retentionBytes: config.broker.retentionBytes ?? (config.broker.dataDir ? -1 : MEMORY_RETENTION_BYTES),
    logger,
  };
}

export interface EmbeddedServicesOptions {
  /** Starts the embedded broker elsewhere (e.g. a worker thread); default: in this thread. */
  launchBroker?: () => Promise<{ address: string; close(): Promise<void> }>;
  /**
   * The embedded schema registry's thread stopped without being closed (a crash, or the watchdog ended it stuck):
   * its schemas and port go with it, so it is not restarted in place.
   */
  onRegistryExit?: (code: number) => void;
}

export async function startEmbeddedServices(
  config: Readonly<Config>,
  logger: Logger,
  options: EmbeddedServicesOptions = {},
): Promise<EmbeddedServicesHandle> {
  const closers = createShutdownStack(logger);
  const close = () => closers.close();
  try {
    let redisUrl = config.redis.url;
    let redisDisk: DiskSpaceWatch | undefined;
    const redisEmbedded = !redisUrl && config.redis.clusterNodes.length === 0;
    if (redisEmbedded) {
      const redis = await startSupervisedRedis({
        binary: config.redis.serverBinary,
        dataDir: config.redis.embedded.dataDir,
        appendOnly: config.redis.embedded.appendOnly,
        logger: logger.child({ component: 'redis' }),
      });
      closers.push(() => redis.close());
      redisUrl = redis.url;
      logger.info(
        {
          url: redis.url,
          pid: redis.pid(),
          dir: redis.dir,
          appendOnly: config.redis.embedded.appendOnly,
        },
        'embedded redis-server started',
      );
      const disk = await watchDiskSpace({
        dir: redis.dir,
        warnFreeBytes: config.redis.embedded.diskWarnFreeBytes,
        intervalMs: config.redis.embedded.diskCheckMs,
        logger: logger.child({ component: 'redis' }),
      });
      closers.push(async () => disk.close());
      redisDisk = disk;
    }

    let brokers = [...config.kafka.brokers];
    const brokerEmbedded = brokers.length === 0;
    if (brokerEmbedded) {
      const broker = options.launchBroker
        ? await options.launchBroker()
        : await startBroker(brokerOptions(config, logger.child({ component: 'broker' })));
      closers.push(() => broker.close());
      brokers = [broker.address];
      logger.info(
        { address: broker.address, dataDir: config.broker.dataDir || null },
        'embedded broker started',
      );
    }

    let registryUrl = config.schemaRegistry.url;
    const registryEmbedded = !registryUrl;
    if (registryEmbedded) {
      // On a thread of its own: parsing a large schema must not hold the gateway's carousels.
      const registry = await startSchemaRegistryThread({
        host: config.schemaRegistry.embedded.host,
        port: config.schemaRegistry.embedded.port,
        dataDir: config.schemaRegistry.embedded.dataDir || undefined,
        limits: {
          maxSchemaChars: config.schemaRegistry.embedded.maxSchemaChars,
          maxStoredChars: config.schemaRegistry.embedded.maxStoredChars,
        },
        logger: logger.child({ component: 'registry' }),
        watchdogMs: config.stream.threadWatchdogMs,
        ...(options.onRegistryExit ? { onExit: options.onRegistryExit } : {}),
      });
      closers.push(() => registry.close());
      registryUrl = registry.url;
      logger.info({ url: registry.url }, 'embedded schema registry started');
    }

    return {
      endpoints: {
        brokers,
        registryUrl,
        redisUrl: config.redis.clusterNodes.length > 0 ? '' : redisUrl,
        redisClusterNodes: [...config.redis.clusterNodes],
        embedded: { broker: brokerEmbedded, registry: registryEmbedded, redis: redisEmbedded },
      },
      redisDisk,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
