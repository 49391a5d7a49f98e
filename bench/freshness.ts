/**
 * Freshness: the time from a click produced to Kafka until the state a decision reads reflects it.
 *
 * Real processes end to end: the embedded broker and schema registry, a redis-server, the stream topology
 * (decode → validate → fold → one Redis script per partition batch → change feed) and the gateway's
 * change-feed cache. Clicks are produced open loop at a fixed rate with a kafkajs producer (acks = all); the
 * clock starts just before `send` and stops when the cache (the `StateView` every decision reads) shows the
 * click in the item's global posterior. Beside it, what the cache's own histogram (croupier_click_freshness_seconds,
 * the dashboard's freshness) saw of the same clicks, timed from their Kafka timestamps by the change feed's `t`.
 * Prints a table and writes bench/results/freshness.json.
 *
 *   npm run bench:freshness [-- --clicks 600 --rate 40]
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker } from '../src/broker/index.ts';
import { parseConfig } from '../src/config/index.ts';
import { startRedisServer } from '../src/embedded/redis-server.ts';
import { createEventCodec } from '../src/kafka/index.ts';
import { silentLogger } from '../src/log/logger.ts';
import { startSchemaRegistry } from '../src/registry/index.ts';
import { startLiveStateReader } from '../src/state/live-reader/index.ts';
import { loadSchemas } from '../streams/schemas/index.ts';
import { startStreamTopology } from '../streams/topology.ts';

const { values: args } = parseArgs({
  options: {
    clicks: { type: 'string', default: '600' },
    rate: { type: 'string', default: '40' },
    partitions: { type: 'string', default: '4' },
  },
});
const CLICKS = Number(args.clicks);
const RATE = Number(args.rate);
const PARTITIONS = Number(args.partitions);
const ITEMS = 50;
const USERS = 200;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (v: number) => Math.round(v * 10) / 10;

async function main(): Promise<void> {
  const logger = silentLogger();
  const config = parseConfig({ kafka: { partitions: PARTITIONS }, redis: { keyPrefix: 'bench:' } });
  const topics = config.kafka.topics;
  const [redisServer, broker, registry] = await Promise.all([
    startRedisServer(),
    startBroker({ host: '127.0.0.1', port: 0, defaultPartitions: PARTITIONS, logger }),
    startSchemaRegistry({ host: '127.0.0.1', port: 0, logger }),
  ]);
  const redis = new Redis({ host: redisServer.host, port: redisServer.port });
  const kafka = new Kafka({
    brokers: [broker.address],
    clientId: 'bench-freshness',
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topics.clickstream, numPartitions: PARTITIONS },
      { topic: topics.cdcItems, numPartitions: PARTITIONS },
      { topic: topics.cdcUsers, numPartitions: PARTITIONS },
      { topic: topics.deadLetter, numPartitions: 1 },
    ],
  });
  await admin.disconnect();
  const codec = createEventCodec({ registryUrl: registry.url, schemas: loadSchemas() });
  const topology = await startStreamTopology({ config, kafka, codec, redis, logger });
  /** The cache's own timing of each click, from its Kafka timestamp (the first 20 are the warm-up's). */
  const live: number[] = [];
  const cache = await startLiveStateReader({
    redis,
    keyPrefix: config.redis.keyPrefix,
    topics: { clickstream: topics.clickstream, cdcItems: topics.cdcItems, cdcUsers: topics.cdcUsers },
    partitions: { clickstream: PARTITIONS, cdcItems: PARTITIONS, cdcUsers: PARTITIONS },
    halfLifeSeconds: config.stream.decayHalfLifeSeconds,
    pollMs: config.gateway.cachePollMs,
    onClickApplied: (ms) => live.push(ms),
    logger,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();

  // Per item: clicks produced so far, and the waiters for each expected global click count.
  const produced = new Map<string, number>();
  const waiting = new Map<string, { expected: number; startedAt: number }[]>();
  const samples: number[] = [];
  let warmupLeft = 20;
  const settle = (itemId: string) => {
    const list = waiting.get(itemId);
    if (list === undefined) return;
    const clicks = cache.arm(itemId, '*').clicks;
    const now = performance.now();
    while (list.length > 0 && list[0].expected <= clicks) {
      const { startedAt } = list.shift() as { expected: number; startedAt: number };
      if (warmupLeft > 0) warmupLeft--;
      else samples.push(now - startedAt);
    }
  };
  cache.onChange((change) => {
    for (const itemId of change.items) settle(itemId);
  });

  const sendClick = async (i: number) => {
    const itemId = `item-${i % ITEMS}`;
    const userId = `user-${(i * 7) % USERS}`;
    const expected = (produced.get(itemId) ?? 0) + 1;
    produced.set(itemId, expected);
    const value = await codec.encode(topics.clickstream, 'Click', {
      eventId: randomUUID(),
      requestId: `bench-${i}`,
      userId,
      itemId,
      slot: null,
      segment: null,
      timestamp: Date.now(),
    });
    const startedAt = performance.now();
    let list = waiting.get(itemId);
    if (list === undefined) {
      list = [];
      waiting.set(itemId, list);
    }
    list.push({ expected, startedAt });
    await producer.send({ topic: topics.clickstream, acks: -1, messages: [{ key: userId, value }] });
  };

  const total = CLICKS + warmupLeft;
  const intervalMs = 1000 / RATE;
  const began = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = began + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sends.push(sendClick(i));
  }
  await Promise.all(sends);
  const deadline = Date.now() + 30_000;
  while (samples.length < CLICKS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

  const sorted = [...samples].sort((a, b) => a - b);
  const liveSorted = live.slice(20).sort((a, b) => a - b);
  const result = {
    benchmark: 'freshness',
    description: 'click produced to Kafka (acks=all) → visible in the change-feed cache that decisions read',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version },
    setup: {
      clicks: CLICKS,
      ratePerSecond: RATE,
      partitions: PARTITIONS,
      streamMaxBatchMs: config.stream.maxBatchMs,
      cachePollMs: config.gateway.cachePollMs,
    },
    measured: sorted.length,
    ms: {
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted[sorted.length - 1] ?? Number.NaN),
      mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
    },
    goalP99Ms: 250,
    live: {
      description:
        "the cache's own histogram of the same clicks: Kafka timestamp → entry applied (the dashboard's freshness)",
      measured: liveSorted.length,
      ms: {
        p50: round(percentile(liveSorted, 50)),
        p90: round(percentile(liveSorted, 90)),
        p99: round(percentile(liveSorted, 99)),
        max: round(liveSorted[liveSorted.length - 1] ?? Number.NaN),
      },
    },
  };
  console.log(`freshness: click produced → visible to decisions (${sorted.length} clicks at ${RATE}/s)`);
  console.table({
    'produced → visible': { ...result.ms, 'goal p99': 250 },
    'live histogram (Kafka timestamp → applied)': result.live.ms,
  });
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/freshness.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/freshness.json');

  await producer.disconnect();
  await cache.close();
  await topology.close();
  redis.disconnect();
  await Promise.all([redisServer.close(), broker.close(), registry.close()]);
}

await main();
