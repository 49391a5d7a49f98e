/**
 * Everything behind the gateway, wired from the config: the ONNX scorer and the decider (experiments
 * swappable through the admin endpoint), the change-feed cache, the event log to Kafka, and the gateway.
 * The caller owns Redis, Kafka and the registry (embedded or external) and passes their addresses in;
 * `croupier serve` and `croupier start` both start serving through here.
 */
import { randomInt } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { loadSchemas } from '../../streams/schemas/index.ts';
import type { Config } from '../config/index.ts';
import type { ArchiveReport } from '../dashboard/sources.ts';
import { kafkaTopicTail } from '../dashboard/topic-tail.ts';
import { createDecider, type Decider } from '../decision/decider.ts';
import { policyOptionsOf } from '../decision/index.ts';
import { PropensityOffload } from '../decision/propensity-offload.ts';
import type { Decision } from '../domain/decision.ts';
import type { DiskSpace, DiskSpaceWatch } from '../embedded/disk-space-watch.ts';
import { CroupierError } from '../errors/index.ts';
import {
  type ExperimentsConfig,
  loadExperimentsConfig,
  parseExperimentsConfig,
} from '../experiments/config.ts';
import { createEventCodec, createKafka, keepSchemasRegistered } from '../kafka/index.ts';
import type { Logger } from '../log/logger.ts';
import { registerMainThread } from '../log/thread-cpu.ts';
import type { Scorer } from '../scoring/onnx-scorer.ts';
import { createOnnxScorer } from '../scoring/onnx-scorer.ts';
import { loadShadowModel, type ShadowModel } from '../scoring/shadow-model.ts';
import { watchEvictionPolicy } from '../state/eviction-policy.ts';
import { type LiveStateReader, startLiveStateReader } from '../state/live-reader/index.ts';
import type { GatewayDecider } from './dealer.ts';
import { type EventLog, startEventLog } from './event-log.ts';
import { configuredSchedules, jobsReportReader } from './jobs-report.ts';
import { GatewayMetrics, gaugeLines } from './metrics.ts';
import { assertNativeUws } from './native-check.ts';
import { type GatewayHandle, startGateway } from './server.ts';
import type { StreamHealthReport } from './state-health.ts';

export interface ServingOptions {
  config: Readonly<Config>;
  logger: Logger;
  /** A connected ioredis client: a single Redis or a Cluster. */
  redis: Redis | Cluster;
  /** Kafka bootstrap brokers (the configured ones, or the embedded broker's address). */
  brokers: readonly string[];
  /** Schema registry base URL (and basic auth for an external one). */
  registryUrl: string;
  registryAuth?: { username: string; password: string };
  /** The stream topology's progress, where this process runs it: reaches /readyz and /metrics. */
  streamHealth?: () => StreamHealthReport;
  /** More lines for `/metrics` (the CDC source, where this process runs it). */
  extraMetrics?: () => string;
  /** More `/readyz` warnings (the CDC source not streaming, where this process runs it): listed, ready still. */
  extraWarnings?: () => string[];
  /** The free space under the embedded redis-server's data directory: a `/readyz` warning and gauges. */
  redisDisk?: DiskSpaceWatch;
  /** The archive's counters, where this process runs it: reach /readyz, /metrics and the dashboard's jobs panel. */
  archiveReport?: () => ArchiveReport | undefined;
}

export interface ServingHandle {
  readonly gateway: GatewayHandle;
  readonly cache: LiveStateReader;
  readonly eventLog: EventLog;
  readonly scorer: Scorer;
  close(): Promise<void>;
}

/**
 * Partition counts of the topics whose feeds the cache tails, from Kafka's metadata; `fallback` (the
 * configured `kafka.partitions`) for a topic Kafka does not report within a few seconds.
 */
async function partitionCounts<K extends string>(
  kafka: Kafka,
  topics: Record<K, string>,
  fallback: number,
  logger: Logger,
): Promise<Record<K, number>> {
  const counts = {} as Record<K, number>;
  for (const key of Object.keys(topics) as K[]) counts[key] = fallback;
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  try {
    const metadata = await Promise.race([
      admin.connect().then(() => admin.fetchTopicMetadata({ topics: Object.values<string>(topics) })),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), 5000);
      }),
    ]);
    if (metadata === null) throw new Error('no answer within 5 s');
    for (const key of Object.keys(topics) as K[]) {
      const topic = metadata.topics.find((t) => t.name === topics[key]);
      if (topic !== undefined && topic.partitions.length > 0) counts[key] = topic.partitions.length;
    }
  } catch (error) {
    logger.warn(
      { err: error, fallback },
      'could not read topic partition counts from Kafka; the cache tails kafka.partitions feeds per topic',
    );
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
  return counts;
}

/**
 * The shadow model of `model.shadowVersion`, on the serving model's execution provider; null when none is set.
 * Refused at start-up (a version missing from the registry, another feature spec) rather than while serving.
 */
async function startShadowModel(
  config: Readonly<Config>,
  scorer: Scorer,
  logger: Logger,
): Promise<ShadowModel | null> {
  const version = config.model.shadowVersion;
  if (version === '') return null;
  const provider = scorer.model.provider;
  const shadowModel = await loadShadowModel({
    registryDir: config.model.registryDir,
    version,
    spec: scorer.spec,
    executionProviders: provider === 'cpu' ? ['cpu'] : [provider, 'cpu'],
    intraOpThreads: config.model.intraOpThreads,
  });
  const rate = config.log.candidateSampleRate;
  if (rate === 0) {
    logger.warn(
      { shadowVersion: version },
      'model.shadowVersion is set but log.candidateSampleRate is 0: no carousel logs its candidate set, so the shadow model scores nothing',
    );
  } else {
    logger.info(
      { shadowVersion: version, candidateSampleRate: rate },
      `shadow model ${version} scores the logged candidate sets (never shown)`,
    );
  }
  return shadowModel;
}

export async function startServing(options: ServingOptions): Promise<ServingHandle> {
  const { config, logger, redis } = options;
  assertNativeUws((await import('uWebSockets.js')).default);
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  // The gateway's counters exist first: the scorer counts its batches into them from its first run.
  const metrics = new GatewayMetrics();
  registerMainThread('gateway');
  try {
    const scorer = await createOnnxScorer({
      registryDir: config.model.registryDir,
      logger,
      executionProviders: config.model.executionProviders,
      batching: config.model.batching,
      batchWaitUs: config.model.batchWaitUs,
      maxBatchRows: config.model.maxBatchRows,
      intraOpThreads: config.model.intraOpThreads,
      inline: config.model.inline,
      watch: config.model.watchRegistry,
      onBatch: (requests) => metrics.batchSize.observe(requests),
    });
    closers.push(() => scorer.close());
    const shadowModel = await startShadowModel(config, scorer, logger);
    if (shadowModel !== null) closers.push(() => shadowModel.close());
    // One set of propensity threads for every decider (experiments swaps included); it closes after the event log,
    // which waits for the carousels it still completes.
    const offload = config.gateway.propensityThread
      ? new PropensityOffload({
          logger,
          maxBacklog: config.gateway.propensityBacklog,
          threads: config.gateway.propensityThreads,
        })
      : undefined;
    if (offload !== undefined) {
      closers.push(() => offload.close());
      metrics.propensityThread = () => offload.stats();
    }
    let experiments = await loadExperimentsConfig(config.model.experimentsFile);
    const newDecider = (exp: ExperimentsConfig): Decider =>
      createDecider({
        ...policyOptionsOf(config.model),
        scorer,
        policy: config.gateway.policy,
        experiments: exp,
        logger,
        // The reply does not wait for Thompson sampling's propensities: the dealer completes them once the
        // socket took the carousel, before it is logged.
        deferPropensities: true,
        candidateLog: {
          sampleRate: config.log.candidateSampleRate,
          ...(shadowModel === null ? {} : { shadowModel }),
        },
        ...(offload === undefined ? {} : { propensityOffload: offload }),
        // Each replica and each experiment swap explores with its own random stream: replicas seeded alike
        // would all deal the same slates to the same requests.
        seed: randomInt(1, 2 ** 31),
      });
    let decider: Decider | null = null;
    closers.push(async () => decider?.close());
    // A decision's propensities are completed by the decider that dealt it, even after an experiments swap.
    const dealtBy = new WeakMap<Decision, Decider>();
    const swappable: GatewayDecider = {
      decide: async (request, view) => {
        const current = decider;
        if (current === null)
          throw new CroupierError('CROUPIER_ERR_GATEWAY_DECISION_FAILED', 'the decider is not ready yet');
        const decision = await current.decide(request, view);
        dealtBy.set(decision, current);
        return decision;
      },
      completePropensities: (decision) => dealtBy.get(decision)?.completePropensities(decision),
      completePropensitiesThen: (decision, done) => {
        const dealer = dealtBy.get(decision);
        if (dealer === undefined) done();
        else dealer.completePropensitiesThen(decision, done);
      },
      scoreCandidates: (decision) => dealtBy.get(decision)?.scoreCandidates(decision) ?? Promise.resolve(),
    };

    const kafka = createKafka(config.kafka, options.brokers, { logger, connectionTimeout: 2000 });
    const topics = {
      clickstream: config.kafka.topics.clickstream,
      cdcItems: config.kafka.topics.cdcItems,
      cdcUsers: config.kafka.topics.cdcUsers,
    };
    const cache = await startLiveStateReader({
      redis,
      keyPrefix: config.redis.keyPrefix,
      topics,
      partitions: await partitionCounts(kafka, topics, config.kafka.partitions, logger),
      halfLifeSeconds: config.stream.decayHalfLifeSeconds,
      requestTtlSeconds: config.stream.requestTtlSeconds,
      pollMs: config.gateway.cachePollMs,
      evictAfterMs: config.gateway.cacheEvictAfterSeconds * 1000,
      onClickApplied: (delayMs) => metrics.clickFreshness.observe(delayMs / 1000),
      logger,
    });
    closers.push(() => cache.close());

    const codec = createEventCodec({
      registryUrl: options.registryUrl,
      ...(options.registryAuth ? { auth: options.registryAuth } : {}),
      schemas: loadSchemas(),
      logger,
    });
    const recheck = keepSchemasRegistered(codec, config.schemaRegistry.recheckIntervalMs, logger);
    closers.push(async () => recheck.close());
    const eventLog = startEventLog({
      kafka,
      codec,
      topic: config.kafka.topics.clickstream,
      logger,
      bufferMax: config.gateway.eventBufferMax,
      batchMs: config.gateway.eventBatchMs,
      batchMax: config.gateway.eventBatchMax,
    });
    closers.push(() => eventLog.close());

    const evictionPolicy = watchEvictionPolicy({ redis, intervalMs: 60_000, logger });
    closers.push(async () => evictionPolicy.close());

    // The decider exists before the port opens: the first request finds it.
    decider = newDecider(experiments);
    const gateway = await startGateway({
      config: config.gateway,
      decider: swappable,
      view: cache,
      eventLog,
      logger,
      ...(options.streamHealth ? { streamHealth: options.streamHealth } : {}),
      ...(options.archiveReport ? { archiveHealth: options.archiveReport } : {}),
      extraMetrics: () =>
        redisDiskMetricsText(options.redisDisk?.reading()) + (options.extraMetrics?.() ?? ''),
      extraWarnings: () => [
        ...evictionPolicy.warnings(),
        ...(options.redisDisk?.warnings() ?? []),
        ...(options.extraWarnings?.() ?? []),
      ],
      metrics,
      dashboard: {
        tail: kafkaTopicTail({
          kafka,
          codec,
          clickstream: config.kafka.topics.clickstream,
          counted: [config.kafka.topics.cdcItems, config.kafka.topics.cdcUsers],
          logger,
        }),
        experiments: () => experiments,
        jobs: jobsReportReader({
          redis,
          registryDir: config.model.registryDir,
          schedules: configuredSchedules(config.jobs),
        }),
        ...(options.archiveReport ? { archive: options.archiveReport } : {}),
      },
      admin: {
        reloadModel: () => scorer.reload(),
        getExperiments: () => experiments,
        setExperiments: async (value) => {
          const next = parseExperimentsConfig(value, 'PUT /admin/experiments');
          const previous = decider;
          decider = newDecider(next);
          experiments = next;
          logger.info({ layers: next.layers.length }, 'experiments replaced');
          // Decisions already in flight finish on the previous decider before it closes.
          setTimeout(() => void previous?.close(), 1000);
          return next;
        },
      },
    });
    closers.push(() => gateway.close());

    return {
      gateway,
      cache,
      eventLog,
      scorer,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** `/metrics` lines of the embedded redis-server's disk, when read. */
function redisDiskMetricsText(disk: DiskSpace | undefined): string {
  if (disk === undefined) return '';
  return `${gaugeLines(
    'croupier_redis_disk_free_bytes',
    'Free bytes of the file system under the embedded redis-server data directory.',
    disk.freeBytes,
  )}\n${gaugeLines(
    'croupier_redis_disk_size_bytes',
    'Size of the file system under the embedded redis-server data directory.',
    disk.totalBytes,
  )}\n`;
}
