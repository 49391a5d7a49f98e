/**
 * What a reliability run (chaos.ts, soak.ts) runs croupier on: a `redis-server` with its AOF, the broker as its
 * own process with a data directory, a schema registry (in this process; never killed), croupier as its own
 * process pointed at them, a catalog of items, carousel traffic, and a watch on /readyz.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type Kafka, Partitioners } from 'kafkajs';
import { type Config, parseConfig } from '../../src/config/index.ts';
import { freePort } from '../../src/embedded/free-port.ts';
import { createEventCodec, createKafka, type EventCodec } from '../../src/kafka/index.ts';
import { startSchemaRegistry } from '../../src/registry/index.ts';
import { loadSchemas } from '../../streams/schemas/index.ts';
import {
  type CarouselTraffic,
  startCarouselTraffic,
  type TrafficCounters,
  type TrafficOptions,
} from './carousel-traffic.ts';
import {
  type Restartable,
  startBrokerProcess,
  startCroupierProcess,
  startRedisProcess,
} from './processes.ts';
import { type AuditResult, auditClickstream } from './state-audit.ts';

export interface StackOptions {
  /** Partitions of every topic. */
  partitions: number;
  /** Items in the catalog. */
  items: number;
  /** croupier's config on top of the run's own (ports, endpoints), e.g. `{stream: {sessionTimeoutMs: 6000}}`. */
  croupierConfig?: Record<string, unknown>;
  /** Where croupier's own log goes (croupier.log); none: discarded. */
  logDir?: string;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Where the redis-server keeps its AOF (e.g. a small file system to fill); default: the run's own directory. */
  redisDir?: string;
}

/** croupier running with traffic tools around it. */
export interface CroupierUnderTest {
  readonly config: Readonly<Config>;
  readonly croupier: Restartable & { gatewayUrl(): string; crashTopology(): void };
  readonly readiness: ReadinessWatch;
  /** Starts carousel traffic against the gateway (stopped by `close()` if still running). */
  startTraffic(options: Omit<TrafficOptions, 'url' | 'isReady'>): CarouselTraffic;
  /** A Redis client on the run's redis-server. */
  redisClient(): Redis;
  /** The processes to measure: croupier, the broker (null when it is a thread of croupier), redis-server. */
  pids(): Promise<{ croupier: number; broker: number | null; redis: number }>;
  /**
   * Stops the traffic, lets the gateway's event log send what it holds, and compares every Redis counter with a
   * reference fold of the clickstream topic.
   */
  stopAndAudit(traffic: CarouselTraffic): Promise<{ totals: TrafficCounters; audit: AuditResult }>;
  close(): Promise<void>;
}

/** croupier as its own process on a redis-server and a broker process the run can kill. */
export interface ReliabilityStack extends CroupierUnderTest {
  readonly redis: Restartable & { url: string };
  /** The redis-server's data directory (the AOF). */
  readonly redisDir: string;
  readonly broker: Restartable & { address: string };
}

export interface ReadinessWatch {
  /** The last /readyz answer (false when there was none). */
  ready(): boolean;
  /** Whether /readyz said not ready (or did not answer) at some time at or after `t`. */
  notReadySince(t: number): boolean;
  stop(): Promise<void>;
}

/**
 * What the audit's reference fold assumes: raw impression counts (it does not model the position-bias weighting,
 * which only changes what one impression adds, not whether it is counted once).
 */
const REFERENCE_FOLD_STREAM = { positionBias: { enabled: false } };

/** One section of the run's croupier config, so the run's own keys go next to it rather than replace it. */
function section(options: StackOptions, name: string): Record<string, unknown> {
  return (options.croupierConfig?.[name] as Record<string, unknown> | undefined) ?? {};
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The machine a run's figures come from (the machine is shared: its load says how busy it was). */
export function machineInfo(): { cpus: number; loadAverage: number[] } {
  return { cpus: cpus().length, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100) };
}

/** Polls /readyz every 100 ms. */
function watchReadiness(url: () => string): ReadinessWatch {
  let ready = false;
  let lastNotReadyAt = 0;
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      try {
        const res = await fetch(new URL('/readyz', url()), { signal: AbortSignal.timeout(1000) });
        ready = res.status === 200;
      } catch {
        ready = false;
      }
      if (!ready) lastNotReadyAt = Date.now();
      await sleep(100);
    }
  };
  const running = poll();
  return {
    ready: () => ready,
    notReadySince: (t) => lastNotReadyAt >= t,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

/** Publishes `count` available items as CDC creates. */
async function publishCatalog(kafka: Kafka, codec: EventCodec, topic: string, count: number): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const source = { connector: 'postgresql', db: 'shop', table: 'items', ts_ms: Date.now(), lsn: null };
    const messages = [];
    for (let i = 0; i < count; i++) {
      const itemId = `item-${i}`;
      const after = {
        itemId,
        title: `Item ${i}`,
        category: ['news', 'drama', 'sport'][i % 3],
        tags: [],
        available: true,
        createdAt: Date.now(),
      };
      const value = await codec.encode(topic, 'ItemChange', {
        before: null,
        after,
        op: 'c',
        ts_ms: Date.now(),
        source,
      });
      messages.push({ key: itemId, value });
    }
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

export async function startReliabilityStack(options: StackOptions): Promise<ReliabilityStack> {
  const log = options.log ?? (() => undefined);
  const work = mkdtempSync(join(tmpdir(), 'croupier-reliability-'));
  const redisDir = options.redisDir ?? join(work, 'redis');
  mkdirSync(redisDir, { recursive: true });
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
    closers.length = 0;
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const [redisPort, brokerPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
    const redis = await startRedisProcess(redisPort, redisDir);
    closers.push(() => redis.close());
    const broker = await startBrokerProcess(brokerPort, join(work, 'broker'), options.partitions);
    closers.push(() => broker.close());
    const registry = await startSchemaRegistry({ dataDir: join(work, 'registry') });
    closers.push(() => registry.close());
    log(`redis ${redis.url} · broker ${broker.address} · registry ${registry.url}`);

    const input = {
      ...options.croupierConfig,
      kafka: { brokers: [broker.address], partitions: options.partitions },
      schemaRegistry: { url: registry.url },
      redis: { url: redis.url },
      gateway: { maxMessagesPerSecond: 10_000, ...section(options, 'gateway'), port: gatewayPort },
      demo: { traffic: 'off' },
      stream: { ...section(options, 'stream'), ...REFERENCE_FOLD_STREAM },
      // The run's own archive: under the working directory (the default) runs one after another shared one.
      archive: { uri: join(work, 'archive'), ...section(options, 'archive') },
      log: { level: 'warn' },
    };
    const config = parseConfig(input);
    const croupier = await startCroupierProcess(
      input,
      options.logDir && join(options.logDir, 'croupier.log'),
    );
    closers.push(() => croupier.close());
    log(`croupier ${croupier.gatewayUrl()}`);

    const tools = await attachTools(
      croupier,
      config,
      { brokers: [broker.address], registryUrl: registry.url, redisUrl: redis.url },
      options,
      closers,
    );
    return {
      ...tools,
      redis,
      redisDir,
      broker,
      pids: async () => ({ croupier: croupier.pid(), broker: broker.pid(), redis: redis.pid() }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** What both kinds of run put around a started croupier: a catalog, a /readyz watch, traffic, Redis, the audit. */
async function attachTools(
  croupier: CroupierUnderTest['croupier'],
  config: Readonly<Config>,
  endpoints: { brokers: string[]; registryUrl: string; redisUrl: string },
  options: StackOptions,
  closers: (() => Promise<void>)[],
): Promise<Omit<CroupierUnderTest, 'pids' | 'close'>> {
  const log = options.log ?? (() => undefined);
  const kafka = createKafka(config.kafka, endpoints.brokers);
  const codec = createEventCodec({ registryUrl: endpoints.registryUrl, schemas: loadSchemas() });
  await publishCatalog(kafka, codec, config.kafka.topics.cdcItems, options.items);
  const readiness = watchReadiness(() => croupier.gatewayUrl());
  closers.push(() => readiness.stop());
  const client = new Redis(endpoints.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true });
  client.on('error', () => undefined); // refused while the run has killed redis-server
  closers.push(async () => client.disconnect());
  return {
    config,
    croupier,
    readiness,
    startTraffic(trafficOptions) {
      const traffic = startCarouselTraffic({
        ...trafficOptions,
        url: () => croupier.gatewayUrl(),
        isReady: readiness.ready,
      });
      closers.push(() => traffic.stop());
      return traffic;
    },
    redisClient: () => client,
    async stopAndAudit(traffic) {
      await traffic.stop();
      const totals = traffic.counters();
      // The event log sends within milliseconds; give it a moment before reading the topic back.
      await sleep(3000);
      log('auditing Redis against a reference fold of the clickstream topic');
      return { totals, audit: await auditClickstream({ kafka, codec, redis: client, config }) };
    },
  };
}

/**
 * `croupier start` as one process with every part embedded (broker and topology threads, a redis-server child), as
 * `npm start` runs it: what a soak of the default deployment measures.
 */
export async function startEmbeddedCroupier(options: StackOptions): Promise<CroupierUnderTest> {
  const log = options.log ?? (() => undefined);
  const closers: (() => Promise<void>)[] = [];
  const archiveDir = mkdtempSync(join(tmpdir(), 'croupier-reliability-archive-'));
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
    closers.length = 0;
    rmSync(archiveDir, { recursive: true, force: true });
  };
  try {
    const input = {
      ...options.croupierConfig,
      kafka: { partitions: options.partitions },
      archive: { uri: archiveDir, ...section(options, 'archive') },
      gateway: { maxMessagesPerSecond: 10_000, ...section(options, 'gateway'), port: await freePort() },
      demo: { traffic: 'off' },
      stream: { ...section(options, 'stream'), ...REFERENCE_FOLD_STREAM },
      log: { level: 'warn' },
    };
    const config = parseConfig(input);
    const croupier = await startCroupierProcess(
      input,
      options.logDir && join(options.logDir, 'croupier.log'),
    );
    closers.push(() => croupier.close());
    const endpoints = croupier.endpoints();
    log(`croupier ${croupier.gatewayUrl()} · kafka ${endpoints.brokers} · redis ${endpoints.redisUrl}`);
    const tools = await attachTools(croupier, config, endpoints, options, closers);
    return {
      ...tools,
      async pids() {
        const info = await tools.redisClient().info('server');
        return {
          croupier: croupier.pid(),
          broker: null,
          redis: Number(/process_id:(\d+)/.exec(info)?.[1] ?? -1),
        };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
