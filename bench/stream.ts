/**
 * Stream topology throughput: 1,000,000 pre-produced clickstream events over 12 partitions, from Kafka to
 * Redis with exactly-once offsets, end to end (embedded broker in its own process, a redis-server, the
 * topology in this process, all on this machine). In the same run, the ceiling: the same Redis script fed
 * directly with pre-built batches (folded and encoded beforehand, partitions in parallel as the topology
 * runs them). Prints a table and writes bench/results/stream.json.
 *
 *   npm run bench:stream [-- --events 1000000 --partitions 12 --batch 5000]
 */

import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { parseConfig } from '../src/config/index.ts';
import { startRedisServer } from '../src/embedded/redis-server.ts';
import { createEventCodec } from '../src/kafka/index.ts';
import { silentLogger } from '../src/log/logger.ts';
import { startSchemaRegistry } from '../src/registry/index.ts';
import { partitionKey } from '../src/state/layout/index.ts';
import { createStateWriter } from '../src/state/writer/index.ts';
import { foldPartitionBatch, type PartitionRecord } from '../streams/fold/partition-batch.ts';
import { type ClickstreamEvent, loadSchemas } from '../streams/schemas/index.ts';
import { startStreamTopology } from '../streams/topology.ts';
import { generateClickstream } from '../test/streams/support/events.ts';
import { partitionOf } from '../test/streams/support/stack.ts';
import { startBrokerProcess } from './broker-process.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    partitions: { type: 'string', default: '12' },
    batch: { type: 'string', default: '5000' },
  },
});
const EVENTS = Number(args.events);
const PARTITIONS = Number(args.partitions);
const BATCH = Number(args.batch);

async function waitForEnd(redis: Redis, prefix: string, group: string, topic: string, last: number[]) {
  for (;;) {
    const stored = await Promise.all(
      last.map((_, p) => redis.hget(partitionKey(prefix, { topic, partition: p }, 'offsets'), group)),
    );
    if (stored.every((s, p) => Number(s ?? -1) >= last[p])) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function commandsProcessed(redis: Redis): Promise<number> {
  const info = await redis.info('stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? 0);
}

async function main(): Promise<void> {
  const loadAtStart = Math.round(os.loadavg()[0] * 100) / 100;
  const logger = silentLogger();
  const prefix = 'bench:';
  const config = parseConfig({
    kafka: { partitions: PARTITIONS },
    redis: { keyPrefix: prefix },
    stream: { maxBatchRecords: BATCH, logIntervalMs: 3_600_000 },
  });
  const topic = config.kafka.topics.clickstream;
  const [redisServer, broker, registry] = await Promise.all([
    startRedisServer(),
    startBrokerProcess(PARTITIONS),
    startSchemaRegistry({ host: '127.0.0.1', port: 0, logger }),
  ]);
  const redis = new Redis({ host: redisServer.host, port: redisServer.port });
  const kafka = new Kafka({
    brokers: [broker.address],
    clientId: 'bench-stream',
    logLevel: logLevel.NOTHING,
  });
  const codec = createEventCodec({ registryUrl: registry.url, schemas: loadSchemas() });
  await codec.registerAll(config.kafka.topics);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: Object.values(config.kafka.topics).map((t) => ({ topic: t, numPartitions: PARTITIONS })),
  });
  await admin.disconnect();

  process.stdout.write(`producing ${EVENTS} events over ${PARTITIONS} partitions...\n`);
  const events = generateClickstream({
    seed: 1,
    users: 100_000,
    items: 2000,
    requests: Math.ceil(EVENTS / 3.6),
  }).slice(0, EVENTS);
  const byPartition: ClickstreamEvent[][] = Array.from({ length: PARTITIONS }, () => []);
  const producer = kafka.producer();
  await producer.connect();
  let bytes = 0;
  for (let i = 0; i < events.length; i += 20_000) {
    const messages = events.slice(i, i + 20_000).map((e) => {
      const partition = partitionOf(e.event.userId, PARTITIONS);
      byPartition[partition].push(e);
      const value = codec.encodeSync(topic, e.type, e.event as never);
      bytes += value.length;
      return { key: e.event.userId, partition, value };
    });
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();

  // End to end: Kafka → topology → Redis.
  const before = await commandsProcessed(redis);
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const topology = await startStreamTopology({ config, kafka, codec, redis, logger });
  await waitForEnd(
    redis,
    prefix,
    config.stream.groupId,
    topic,
    byPartition.map((p) => p.length - 1),
  );
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const topologyCpu = (cpu.user + cpu.system) / 1e6 / seconds;
  const m = topology.metrics();
  await topology.close();
  const commands = (await commandsProcessed(redis)) - before;

  // Ceiling: the same script fed with batches folded beforehand, partitions in parallel.
  const store = createStateWriter({
    redis,
    keyPrefix: 'ceiling:',
    groupId: config.stream.groupId,
    changeFeedMaxLen: config.stream.changeFeedMaxLen,
    recentClicks: config.stream.recentClicks,
    halfLifeMs: config.stream.decayHalfLifeSeconds * 1000,
    requestTtlSeconds: config.stream.requestTtlSeconds,
  });
  await store.init();
  const fold = {
    halfLifeMs: config.stream.decayHalfLifeSeconds * 1000,
    recentClicks: config.stream.recentClicks,
  };
  const batches = byPartition.map((events) => {
    const out = [];
    for (let i = 0; i < events.length; i += BATCH) {
      const records: PartitionRecord[] = events
        .slice(i, i + BATCH)
        .map((event, j) => ({ offset: i + j, kind: 'event', event }));
      out.push({
        folded: foldPartitionBatch('clickstream', records, fold),
        span: { after: i - 1, last: i + records.length - 1 },
      });
    }
    return out;
  });
  const ceilingStart = performance.now();
  await Promise.all(
    batches.map(async (list, partition) => {
      for (const { folded, span } of list) {
        if (folded.role !== 'clickstream') continue;
        await store.applyClickstream({ topic, partition }, span, folded.delta, folded.dlq);
      }
    }),
  );
  const ceilingSeconds = (performance.now() - ceilingStart) / 1000;
  const ceilingCalls = batches.reduce((n, l) => n + l.length, 0);

  const result = {
    bench: 'stream',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
    // Other work on the machine skews every figure: the 1-minute load average before and after the run.
    loadAverage: { start: loadAtStart, end: Math.round(os.loadavg()[0] * 100) / 100 },
    events: EVENTS,
    partitions: PARTITIONS,
    maxBatchRecords: BATCH,
    avgRecordBytes: Math.round(bytes / EVENTS),
    endToEnd: {
      seconds: Math.round(seconds * 100) / 100,
      eventsPerSecond: Math.round(EVENTS / seconds),
      scriptCallsPerSecond: Math.round(m.redisCalls / seconds),
      redisCommandsPerSecond: Math.round(commands / seconds),
      batches: m.batches,
      averageBatchSize: m.averageBatchSize,
      /** CPU time of this process (topology and kafkajs) per second of the run: 1 = one core busy. */
      topologyCores: Math.round(topologyCpu * 100) / 100,
    },
    ceiling: {
      seconds: Math.round(ceilingSeconds * 100) / 100,
      eventsPerSecond: Math.round(EVENTS / ceilingSeconds),
      scriptCallsPerSecond: Math.round(ceilingCalls / ceilingSeconds),
    },
  };
  const ratio = result.endToEnd.eventsPerSecond / result.ceiling.eventsPerSecond;
  const rows = [
    ['', 'events/s', 'script calls/s', 'seconds'],
    [
      'end to end (Kafka → Redis)',
      result.endToEnd.eventsPerSecond,
      result.endToEnd.scriptCallsPerSecond,
      result.endToEnd.seconds,
    ],
    [
      'ceiling (script, pre-built batches)',
      result.ceiling.eventsPerSecond,
      result.ceiling.scriptCallsPerSecond,
      result.ceiling.seconds,
    ],
  ];
  for (const row of rows) {
    process.stdout.write(
      `${String(row[0]).padEnd(38)}${row
        .slice(1)
        .map((c) => String(c).padStart(16))
        .join('')}\n`,
    );
  }
  process.stdout.write(
    `end to end / ceiling: ${(ratio * 100).toFixed(0)}%; Redis commands/s (inside scripts too): ${result.endToEnd.redisCommandsPerSecond}; average batch ${result.endToEnd.averageBatchSize} records; topology process ${result.endToEnd.topologyCores} cores; load average ${result.loadAverage.start} → ${result.loadAverage.end}\n`,
  );
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(
    new URL('./results/stream.json', import.meta.url),
    `${JSON.stringify({ ...result, ratio }, null, 2)}\n`,
  );

  redis.disconnect();
  broker.child.kill('SIGTERM');
  await Promise.all([redisServer.close(), registry.close()]);
}

await main();
