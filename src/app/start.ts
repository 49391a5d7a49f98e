/**
 * `croupier start`: the whole loop in one process on whatever the config names, embedded parts for the rest:
 * Redis, broker and registry → topics and schemas → the exactly-once stream topology → the gateway (scorer,
 * change-feed cache, event log) → optionally a simulator feeding it traffic so carousels visibly learn.
 * The embedded broker and the topology run in worker threads; the gateway has the main thread to itself.
 */
import { loadSchemas } from '../../streams/schemas/index.ts';
import type { Config } from '../config/index.ts';
import { startServing } from '../gateway/serving.ts';
import { createEventCodec, createKafka } from '../kafka/index.ts';
import type { Logger } from '../log/logger.ts';
import { startDemoTraffic } from './demo-traffic.ts';
import { type Endpoints, startEmbeddedServices } from './embedded.ts';
import { createRedisClient } from './redis-client.ts';
import { createShutdownStack } from './shutdown.ts';
import { prepareTopicsAndSchemas, registryAuth } from './topics.ts';
import { startWorkerThread } from './worker-thread.ts';

export interface StartOptions {
  config: Readonly<Config>;
  logger: Logger;
}

export interface CroupierHandle {
  readonly endpoints: Endpoints;
  /** The page and WebSocket URL of the gateway. */
  readonly gatewayUrl: string;
  close(): Promise<void>;
}

export async function startCroupier(options: StartOptions): Promise<CroupierHandle> {
  const { config, logger } = options;
  const closers = createShutdownStack(logger);
  const close = () => closers.close();
  try {
    // The broker and the topology each get a thread of their own, so the gateway's event loop deals carousels
    // without waiting behind record batches.
    const embedded = await startEmbeddedServices(config, logger, {
      launchBroker: async () => {
        const worker = await startWorkerThread('broker', config, logger);
        return { address: worker.address!, close: () => worker.close() };
      },
    });
    closers.push(() => embedded.close());
    const { endpoints } = embedded;

    const redis = createRedisClient(endpoints);
    closers.push(async () => redis.disconnect());

    const kafka = createKafka(config.kafka, endpoints.brokers, {
      logger: logger.child({ component: 'kafka' }),
    });
    const auth = registryAuth(config);
    const codec = createEventCodec({
      registryUrl: endpoints.registryUrl,
      auth,
      schemas: loadSchemas(),
      logger,
    });
    await prepareTopicsAndSchemas(config, kafka, codec);

    const topology = await startWorkerThread('topology', config, logger, endpoints);
    closers.push(() => topology.close());

    // The archive writes every topic to files from a thread of its own (archive.enabled=false to leave it out).
    if (config.archive.enabled) {
      const archive = await startWorkerThread('archive', config, logger, endpoints);
      closers.push(() => archive.close());
    }

    const serving = await startServing({
      config,
      logger,
      redis,
      brokers: endpoints.brokers,
      registryUrl: endpoints.registryUrl,
      ...(auth ? { registryAuth: auth } : {}),
    });
    closers.push(() => serving.close());

    if (config.demo.traffic === 'on' || (config.demo.traffic === 'auto' && endpoints.embedded.broker)) {
      const traffic = await startDemoTraffic({
        config,
        kafka,
        codec,
        gatewayUrl: serving.gateway.url,
        logger,
      });
      closers.push(() => traffic.close());
    }

    return { endpoints, gatewayUrl: serving.gateway.url, close };
  } catch (error) {
    await close();
    throw error;
  }
}
