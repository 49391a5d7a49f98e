/**
 * The stream topology on resolved endpoints: its own Redis client, kafkajs client and event codec, all closed
 * with it. `croupier stream` runs it in the main thread, `croupier start` in a worker thread.
 */

import type { StreamMetricsSnapshot } from '../../streams/metrics.ts';
import { loadSchemas } from '../../streams/schemas/index.ts';
import { startStreamTopology } from '../../streams/topology.ts';
import type { Config } from '../config/index.ts';
import { createEventCodec, createKafka, keepSchemasRegistered } from '../kafka/index.ts';
import type { Logger } from '../log/logger.ts';
import type { Endpoints } from './embedded.ts';
import { prepareTopicsAndSchemas, registryAuth } from './prepare-topics.ts';
import { createRedisClient } from './redis-client.ts';

export interface TopologyOnOptions {
  /** Create the topics and register the schemas first (when nothing else in the process does). */
  prepare?: boolean;
}

export async function startTopologyOn(
  config: Readonly<Config>,
  endpoints: Endpoints,
  logger: Logger,
  options: TopologyOnOptions = {},
): Promise<{ close(): Promise<void>; metrics(): StreamMetricsSnapshot }> {
  const redis = createRedisClient(endpoints);
  redis.on('error', (error: Error) =>
    logger.warn({ err: error }, 'redis connection error; the topology retries'),
  );
  try {
    const kafka = createKafka(config.kafka, endpoints.brokers, { logger });
    const codec = createEventCodec({
      registryUrl: endpoints.registryUrl,
      auth: registryAuth(config),
      schemas: loadSchemas(),
      logger,
    });
    if (options.prepare) await prepareTopicsAndSchemas(config, kafka, codec);
    const topology = await startStreamTopology({ config, kafka, codec, redis, logger });
    // The topology writes dead letters with the codec's ids.
    const recheck = keepSchemasRegistered(codec, config.schemaRegistry.recheckIntervalMs, logger);
    return {
      async close() {
        recheck.close();
        await topology.close();
        redis.disconnect();
      },
      metrics: () => topology.metrics(),
    };
  } catch (error) {
    redis.disconnect();
    throw error;
  }
}
