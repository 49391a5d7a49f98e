/**
 * `croupier start`: the whole loop in one process on whatever the config names, embedded parts for the rest:
 * Redis, broker and registry → topics and schemas → the exactly-once stream topology → the gateway (scorer,
 * live state reader, event log) → whatever the caller adds on top (`croupier start` adds demo traffic).
 * The embedded broker and the topology run in worker threads; the gateway has the main thread to itself.
 */
import type { Kafka } from 'kafkajs';
import { loadSchemas } from '../../streams/schemas/index.ts';
import type { ArchiveMetricsSnapshot } from '../archive/metrics.ts';
import { renderCdcMetrics } from '../cdc/postgres/cdc-metrics-text.ts';
import { type PostgresCdcHandle, startPostgresCdc } from '../cdc/postgres/source.ts';
import type { Config } from '../config/index.ts';
import { CroupierError } from '../errors/index.ts';
import { startServing } from '../gateway/serving.ts';
import type { StreamHealthReport } from '../gateway/state-health.ts';
import { createEventCodec, createKafka, type EventCodec } from '../kafka/index.ts';
import type { Logger } from '../log/logger.ts';
import { type Endpoints, startEmbeddedServices } from './embedded.ts';
import { prepareTopicsAndSchemas, registryAuth } from './prepare-topics.ts';
import { createRedisClient } from './redis-client.ts';
import { createShutdownStack } from './shutdown.ts';
import { type SupervisedThread, superviseThread } from './thread-supervisor.ts';
import { superviseTopology, type TopologySupervisor } from './topology-supervisor.ts';
import { startWorkerThread, type WorkerHandle } from './worker-thread.ts';

/** What runs on top of a started loop (the CLI plays demo traffic); closed before the loop. */
export interface StartedLoop {
  config: Readonly<Config>;
  kafka: Kafka;
  codec: EventCodec;
  endpoints: Endpoints;
  gatewayUrl: string;
  logger: Logger;
}

export interface StartOptions {
  config: Readonly<Config>;
  logger: Logger;
  /** Started last, closed first: the app layer never imports what runs on top of it. */
  onStarted?: (loop: StartedLoop) => Promise<{ close(): Promise<void> } | undefined>;
}

export interface CroupierHandle {
  readonly endpoints: Endpoints;
  /** The page and WebSocket URL of the gateway. */
  readonly gatewayUrl: string;
  /** The stream topology's thread, restarted when it stops unexpectedly. */
  readonly topology: TopologySupervisor;
  /** The archive's thread (archive.enabled), restarted when it stops unexpectedly. */
  readonly archive: SupervisedThread | undefined;
  /** The embedded broker's thread, where croupier runs its own broker. */
  readonly broker: WorkerHandle | undefined;
  /**
   * Resolves with the reason when a part croupier cannot go on without stops for good: the embedded broker's or
   * schema registry's thread (their records, schemas and ports go with them, so they are not restarted in place).
   * The caller closes croupier and exits non-zero, for its supervisor to start it again.
   */
  readonly failed: Promise<CroupierError>;
  close(): Promise<void>;
}

/** What /readyz hears of the topology before its thread has started. */
const TOPOLOGY_STARTING: StreamHealthReport = { running: false, metrics: null, ageMs: 0, restarts: 0 };

export async function startCroupier(options: StartOptions): Promise<CroupierHandle> {
  const { config, logger } = options;
  const closers = createShutdownStack(logger);
  const close = () => closers.close();
  let topologyStarted: Promise<TopologySupervisor> | undefined;
  let fail: (reason: CroupierError) => void = () => undefined;
  const failed = new Promise<CroupierError>((resolve) => {
    fail = resolve;
  });
  const stopped = (part: string) => (code: number) =>
    fail(
      new CroupierError(
        'CROUPIER_ERR_CHILD_PROCESS',
        `the embedded ${part}'s thread stopped (code ${code}); croupier cannot go on without it`,
      ),
    );
  let broker: WorkerHandle | undefined;
  try {
    // The broker and the topology each get a thread of their own, so the gateway's event loop deals carousels
    // without waiting behind record batches.
    const embedded = await startEmbeddedServices(config, logger, {
      launchBroker: async () => {
        const worker = await startWorkerThread('broker', config, logger, undefined, {
          onExit: stopped('broker'),
        });
        broker = worker;
        return { address: worker.address!, close: () => worker.close() };
      },
      onRegistryExit: stopped('schema registry'),
    });
    closers.push(() => embedded.close());
    const { endpoints } = embedded;

    const redis = createRedisClient(endpoints);
    redis.on('error', (error: Error) =>
      logger.debug({ err: error }, 'redis connection error; the gateway serves from its cache'),
    );
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

    // The topology starts beside the gateway, not before it: after a crash its consumer group waits for the dead
    // member's session to expire (stream.sessionTimeoutMs) before it lets a new one in, and carousels need not wait
    // for that; /readyz says not ready until the topology runs.
    let topology: TopologySupervisor | undefined;
    topologyStarted = superviseTopology(config, logger, endpoints).then((started) => {
      topology = started;
      closers.push(() => started.close());
      return started;
    });
    topologyStarted.catch(() => undefined); // awaited below

    let archiveMetrics: ArchiveMetricsSnapshot | undefined;
    let cdc: PostgresCdcHandle | undefined;
    const serving = await startServing({
      config,
      logger,
      redis,
      brokers: endpoints.brokers,
      registryUrl: endpoints.registryUrl,
      ...(auth ? { registryAuth: auth } : {}),
      streamHealth: () => topology?.health() ?? TOPOLOGY_STARTING,
      archiveReport: () => archiveMetrics,
      ...(embedded.redisDisk ? { redisDisk: embedded.redisDisk } : {}),
      extraMetrics: () => (cdc === undefined ? '' : renderCdcMetrics(cdc.metrics())),
      extraWarnings: () =>
        cdc === undefined || cdc.metrics().streaming
          ? []
          : [
              cdc.metrics().standby
                ? `the PostgreSQL CDC source (slot ${config.cdc.slot}) stands by: another croupier streams its slot; it takes the slot over once that one stops`
                : `the PostgreSQL CDC source (slot ${config.cdc.slot}) is not streaming: it stopped, or starts again after a lost connection; its log says why`,
            ],
    });
    closers.push(() => serving.close());

    // The PostgreSQL CDC source, when a database is configured (croupier cdc runs it on its own).
    if (config.cdc.postgresUrl !== '') {
      const source = await startPostgresCdc({
        config: config.cdc,
        kafka,
        codec,
        topics: config.kafka.topics,
        logger: logger.child({ component: 'cdc' }),
      });
      cdc = source;
      closers.push(() => source.close());
    }

    // The archive writes every topic to files from a thread of its own (archive.enabled=false to leave it out),
    // restarted when it stops: it goes on from its last committed file.
    let archive: SupervisedThread | undefined;
    if (config.archive.enabled) {
      const started = await superviseThread('archive', config, logger, endpoints, {
        onArchiveMetrics: (snapshot) => {
          archiveMetrics = snapshot;
        },
      });
      archive = started;
      closers.push(() => started.close());
    }

    const extra = await options.onStarted?.({
      config,
      kafka,
      codec,
      endpoints,
      gatewayUrl: serving.gateway.url,
      logger,
    });
    if (extra !== undefined) closers.push(() => extra.close());

    return {
      endpoints,
      gatewayUrl: serving.gateway.url,
      topology: await topologyStarted,
      archive,
      broker,
      failed,
      close,
    };
  } catch (error) {
    // A topology still starting when something else failed is let finish and closed first, while the Redis and
    // broker it starts against still run: closed after them, it retried them for good and the error never came out.
    // (Once started it is on the shutdown stack, above them.)
    await topologyStarted?.catch(() => undefined);
    await close();
    throw error;
  }
}
