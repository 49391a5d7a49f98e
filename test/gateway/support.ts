/**
 * Fixtures of the gateway suites: a world of real processes (redis-server, the embedded broker and registry,
 * the default ONNX model behind the real decider, the change-feed cache, the event log, the gateway), the
 * documented Redis layout written directly, and a small WebSocket client that queues what it receives.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import WebSocket from 'ws';
import { type ConfigInput, parseConfig } from '../../src/config/index.ts';
import { createDecider, type Decider } from '../../src/decision/decider.ts';
import { type EventLog, startEventLog } from '../../src/gateway/event-log.ts';
import { type GatewayHandle, type GatewayOptions, startGateway } from '../../src/gateway/server.ts';
import { createEventCodec, type DecodedEvent, type EventCodec } from '../../src/kafka/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { createOnnxScorer, type Scorer } from '../../src/scoring/onnx-scorer.ts';
import { type LiveStateReader, startLiveStateReader } from '../../src/state/live-reader/index.ts';
import { loadSchemas } from '../../streams/schemas/index.ts';
import { type StreamTopology, startStreamTopology } from '../../streams/topology.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { startTestRegistry, type TestRegistry } from '../support/registry.ts';

export const PARTITIONS = { clickstream: 2, cdcItems: 2, cdcUsers: 2 } as const;
export const TOPICS = { clickstream: 'clickstream', cdcItems: 'cdc.items', cdcUsers: 'cdc.users' } as const;

export interface ItemSeed {
  itemId: string;
  title: string;
  category: string;
  available?: boolean;
}

/** Writes item rows the way the topology does: the pool hash plus a change-feed entry. */
export async function writeItems(
  redis: TestRedis['client'],
  prefix: string,
  items: ItemSeed[],
  partition = 0,
): Promise<void> {
  const tag = `${prefix}{${TOPICS.cdcItems}:${partition}}`;
  const rows: Record<string, unknown> = {};
  const multi = redis.multi();
  for (const item of items) {
    const row = {
      itemId: item.itemId,
      title: item.title,
      category: item.category,
      tags: [],
      available: item.available ?? true,
      createdAt: Date.now() - 3600_000,
    };
    rows[item.itemId] = row;
    multi.hset(`${tag}:items`, item.itemId, JSON.stringify(row));
  }
  multi.xadd(`${tag}:feed`, '*', 'o', String(Date.now()), 'd', JSON.stringify({ items: rows }));
  await multi.exec();
}

export const CATALOGUE: ItemSeed[] = Array.from({ length: 12 }, (_, i) => ({
  itemId: `item-${i}`,
  title: `Title ${i}`,
  category: i % 2 === 0 ? 'drama' : 'comedy',
}));

export interface World {
  redis: TestRedis;
  prefix: string;
  broker: TestBroker;
  registry: TestRegistry;
  kafka: Kafka;
  codec: EventCodec;
  scorer: Scorer;
  decider: Decider;
  cache: LiveStateReader;
  eventLog: EventLog;
  gateway: GatewayHandle;
  /** The real stream topology, when the world was started with one. */
  topology: StreamTopology | null;
  wsUrl: string;
  httpUrl: string;
  /** Starts the stream topology of a world started without one. */
  startTopology(): Promise<StreamTopology>;
  /** Starts another gateway over the same cache, decider and event log. */
  extraGateway(config: ConfigInput['gateway'], options?: Partial<GatewayOptions>): Promise<GatewayHandle>;
  close(): Promise<void>;
}

export async function startWorld(
  gateway: ConfigInput['gateway'] = {},
  options: {
    topology?: boolean;
    deferPropensities?: boolean;
    /** Stands between the decider and the real ONNX scorer (a model that misbehaves on live rows). */
    wrapScorer?: (scorer: Scorer) => Scorer;
  } = {},
): Promise<World> {
  const logger = silentLogger();
  const [redis, broker, registry] = await Promise.all([
    startTestRedis(),
    startTestBroker(),
    startTestRegistry(),
  ]);
  const prefix = redis.prefix();
  await writeItems(redis.client, prefix, CATALOGUE.slice(0, 6), 0);
  await writeItems(redis.client, prefix, CATALOGUE.slice(6), 1);
  const kafka = new Kafka({ brokers: broker.brokers, clientId: 'gateway-test', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: TOPICS.clickstream, numPartitions: PARTITIONS.clickstream },
      { topic: TOPICS.cdcItems, numPartitions: PARTITIONS.cdcItems },
      { topic: TOPICS.cdcUsers, numPartitions: PARTITIONS.cdcUsers },
      { topic: 'croupier.dlq', numPartitions: 1 },
    ],
  });
  await admin.disconnect();
  const codec = createEventCodec({ registryUrl: registry.url, schemas: loadSchemas() });
  const startTopology = () =>
    startStreamTopology({
      config: parseConfig({
        kafka: { partitions: PARTITIONS.clickstream },
        redis: { keyPrefix: prefix },
        stream: { maxBatchMs: 10, commitIntervalMs: 200, sessionTimeoutMs: 3000 },
      }),
      kafka,
      codec,
      redis: redis.client,
      logger,
    });
  let topology = options.topology ? await startTopology() : null;
  const scorer = await createOnnxScorer({ registryDir: 'models', logger });
  const decider = createDecider({
    scorer: options.wrapScorer?.(scorer) ?? scorer,
    policy: 'thompson',
    priorStrength: 20,
    logger,
    deferPropensities: options.deferPropensities === true,
  });
  const cache = await startLiveStateReader({
    redis: redis.client,
    keyPrefix: prefix,
    topics: TOPICS,
    partitions: PARTITIONS,
    halfLifeSeconds: 3600,
    pollMs: 20,
    logger,
  });
  const eventLog = startEventLog({ kafka, codec, topic: TOPICS.clickstream, logger, batchMs: 5 });
  const gatewayConfig = (overrides: ConfigInput['gateway']) =>
    parseConfig({ gateway: { port: 0, authDisabled: true, ...overrides } }).gateway;
  const extras: GatewayHandle[] = [];
  const handle = await startGateway({
    config: gatewayConfig(gateway),
    decider,
    view: cache,
    eventLog,
    logger,
  });
  return {
    redis,
    prefix,
    broker,
    registry,
    kafka,
    codec,
    scorer,
    decider,
    cache,
    eventLog,
    gateway: handle,
    get topology() {
      return topology;
    },
    async startTopology() {
      topology ??= await startTopology();
      return topology;
    },
    wsUrl: `ws://127.0.0.1:${handle.port}/ws`,
    httpUrl: `http://127.0.0.1:${handle.port}`,
    async extraGateway(config, options = {}) {
      const extra = await startGateway({
        config: gatewayConfig(config),
        decider,
        view: cache,
        eventLog,
        logger,
        ...options,
      });
      extras.push(extra);
      return extra;
    },
    async close() {
      for (const extra of extras) await extra.close();
      await handle.close();
      await eventLog.close();
      await topology?.close();
      await cache.close();
      await decider.close();
      await scorer.close();
      await Promise.all([redis.close(), broker.close(), registry.close()]);
    },
  };
}

export type ServerMessage = { type: string; [key: string]: unknown };

export interface TestClient {
  socket: WebSocket;
  send(message: unknown): void;
  sendRaw(data: string | Buffer): void;
  /** The next received message matching `predicate` (earlier non-matching ones stay queued). */
  next(predicate?: (m: ServerMessage) => boolean, timeoutMs?: number): Promise<ServerMessage>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export async function connectClient(url: string): Promise<TestClient> {
  const socket = new WebSocket(url);
  const queue: ServerMessage[] = [];
  const waiters: { predicate: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as ServerMessage;
    const i = waiters.findIndex((w) => w.predicate(message));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(message);
    else queue.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    send: (message) => socket.send(JSON.stringify(message)),
    sendRaw: (data) => socket.send(data),
    next(predicate = () => true, timeoutMs = 10_000) {
      const i = queue.findIndex(predicate);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (m: ServerMessage) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching message within ${timeoutMs} ms; queued: ${JSON.stringify(queue)}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    closed,
    close: () => socket.close(),
  };
}

/** A client that said hello as `userId` and got its welcome. */
export async function helloAs(url: string, userId: string): Promise<TestClient> {
  const client = await connectClient(url);
  client.send({ type: 'hello', userId });
  await client.next((m) => m.type === 'welcome');
  return client;
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A consumer decoding every record of `topic`, from the beginning, into `consumed` until `close()`. */
export async function tailTopic(
  brokers: readonly string[],
  registryUrl: string,
  topic: string,
): Promise<{ consumed: DecodedEvent[]; close(): Promise<void> }> {
  const kafka = new Kafka({
    brokers: [...brokers],
    clientId: 'gateway-test-tail',
    logLevel: logLevel.NOTHING,
  });
  const codec = createEventCodec({ registryUrl, schemas: loadSchemas() });
  const consumer = kafka.consumer({ groupId: `gateway-test-tail-${randomUUID()}`, sessionTimeout: 6000 });
  const consumed: DecodedEvent[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value !== null) consumed.push(await codec.decode(message.value));
      },
    });
  } catch (error) {
    await consumer.disconnect();
    throw error;
  }
  return { consumed, close: () => consumer.disconnect() };
}
