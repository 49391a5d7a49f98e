/**
 * Archive throughput: clickstream events pre-produced over 12 partitions, from Kafka to committed Parquet
 * files on a local directory (the archive in this process, the embedded broker in its own), beside kafkajs's
 * own consume rate of the same topic measured in the same run (a consumer that only counts), and the archive
 * again with its Parquet builder on the consumer's thread (`archive.builderThread=false`). Each is run
 * `--runs` times (fresh consumer group, fresh archive directory); the table shows the median and the range.
 * Rates are measured from the first record fetched to the last one counted (kafkajs) or in a committed file
 * (the archive, including the idle wait that closes the last files); the same rates counted from the start of
 * the consumer (connection, group join, recovery of the archive's partitions) are given too.
 * The default of 2,400,000 events (200,000 a partition) makes it a steady state: each partition closes files
 * at `archive.flushRecords` (100,000) and at the hour while it consumes, as a live stream does. With fewer, every
 * file waits for the end: the idle wait that closes the last files (500 ms here) and their build after it are
 * then a fifth of the archive's time (600,000 events: about 0.6 s of 3), a latency, not a rate.
 * Then the cost of recovery with 100,000 files in the archive: a partition's end found by its marker, and by
 * a scan of the names. Prints a table and writes bench/results/archive.json.
 *
 *   npm run bench:archive [-- --events 2400000 --partitions 12 --runs 3 --files 100000]
 */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { createLocalFileSystem } from '../src/archive/fs/local-fs.ts';
import { startArchive } from '../src/archive/index.ts';
import { fileNameOf, hourDirOf, markerPathOf } from '../src/archive/layout.ts';
import { serializeMarker } from '../src/archive/recovery.ts';
import { recoverPartition } from '../src/archive/scan.ts';
import { parseConfig } from '../src/config/index.ts';
import { createEventCodec } from '../src/kafka/index.ts';
import { silentLogger } from '../src/log/logger.ts';
import { startSchemaRegistry } from '../src/registry/index.ts';
import { loadSchemas } from '../streams/schemas/index.ts';
import { generateClickstream } from '../test/streams/support/events.ts';
import { partitionOf } from '../test/streams/support/stack.ts';
import { startBrokerProcess } from './broker-process.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '2400000' },
    partitions: { type: 'string', default: '12' },
    runs: { type: 'string', default: '3' },
    files: { type: 'string', default: '100000' },
  },
});
const EVENTS = Number(args.events);
const PARTITIONS = Number(args.partitions);
const RUNS = Number(args.runs);
const FILES = Number(args.files);
const TOPICS = {
  clickstream: 'bench.clickstream',
  cdcItems: 'bench.cdc.items',
  cdcUsers: 'bench.cdc.users',
  deadLetter: 'bench.dlq',
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (xs: number[]) => ({
  median: median(xs),
  min: Math.min(...xs),
  max: Math.max(...xs),
  runs: xs,
});

async function produce(kafka: Kafka, registryUrl: string): Promise<void> {
  const codec = createEventCodec({ registryUrl, schemas: loadSchemas() });
  await codec.registerAll(TOPICS);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.values(TOPICS).map((topic) => ({ topic, numPartitions: PARTITIONS })),
  });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const t0 = Date.parse('2026-03-01T09:30:00Z');
  const events = generateClickstream({
    seed: 3,
    users: 5000,
    items: 500,
    requests: Math.ceil(EVENTS / 3),
  }).slice(0, EVENTS);
  for (let i = 0; i < events.length; i += 5000) {
    const messages = events.slice(i, i + 5000).map((e, j) => ({
      key: e.event.userId,
      partition: partitionOf(e.event.userId, PARTITIONS),
      timestamp: String(t0 + Math.floor(((i + j) * 3_600_000) / EVENTS)),
      value: codec.encodeSync(TOPICS.clickstream, e.type, e.event as never),
    }));
    await producer.send({ topic: TOPICS.clickstream, acks: -1, messages });
  }
  await producer.disconnect();
}

interface Rates {
  /** Events/s from the first record fetched. */
  rate: number;
  /** Events/s from the consumer's start. */
  withStartup: number;
  /** CPU of this process (every thread; the broker runs in its own) per event, µs, from the consumer's start. */
  cpuUsPerEvent: number;
}

const cpuUsSince = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return d.user + d.system;
};

/** kafkajs alone: a consumer that counts records, from the beginning, until it has them all. */
async function consumeRate(kafka: Kafka, run: number): Promise<Rates> {
  const consumer = kafka.consumer({
    groupId: `bench-consume-${run}-${Date.now()}`,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPICS.clickstream], fromBeginning: true });
  let seen = 0;
  let t0 = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: async ({ batch }) => {
        if (t0 === 0) t0 = performance.now();
        seen += batch.messages.length;
        if (seen >= EVENTS) resolve(performance.now());
      },
    });
  });
  const end = await done;
  const cpuUs = cpuUsSince(cpu);
  await consumer.disconnect();
  return {
    rate: EVENTS / ((end - t0) / 1000),
    withStartup: EVENTS / ((end - started) / 1000),
    cpuUsPerEvent: cpuUs / EVENTS,
  };
}

/** The archive: from the first fetch to every record in a committed file. */
async function archiveRate(
  brokers: string[],
  registryUrl: string,
  run: number,
  builderThread: boolean,
): Promise<Rates & { files: number; bytes: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-archive-'));
  const config = parseConfig({
    kafka: { brokers, topics: TOPICS },
    schemaRegistry: { url: registryUrl },
    log: { level: 'warn' },
    archive: {
      uri: dir,
      groupId: `bench-archive-${run}-${Date.now()}`,
      idleRotateMs: 500,
      rotateIntervalMs: 0,
      compactIntervalMs: 0,
      maxWaitMs: 100,
      builderThread,
    },
  });
  const started = Date.now();
  const cpu = process.cpuUsage();
  const archive = await startArchive(config, { brokers, registryUrl }, silentLogger());
  while (archive.metrics().records < EVENTS) await new Promise((r) => setTimeout(r, 10));
  const end = Date.now();
  const cpuUs = cpuUsSince(cpu);
  const m = archive.metrics();
  await archive.close();
  await rm(dir, { recursive: true, force: true });
  const first = m.firstFetchAt ?? started;
  return {
    rate: EVENTS / ((end - first) / 1000),
    withStartup: EVENTS / ((end - started) / 1000),
    cpuUsPerEvent: cpuUs / EVENTS,
    files: m.files,
    bytes: m.bytes,
  };
}

/** Recovery of one partition with `FILES` files in the archive (empty files with real names). */
async function recoveryCost(): Promise<{ byMarkerMs: number; byScanMs: number; filesPerPartition: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-recovery-'));
  const fs = createLocalFileSystem(dir);
  const perPartition = Math.ceil(FILES / PARTITIONS);
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const last: string[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    for (let i = 0; i < perPartition; i++) {
      const hourDir = hourDirOf('clickstream', t0 + Math.floor(i / 20) * 3_600_000);
      const name = fileNameOf({
        topic: 'clickstream',
        partition: p,
        start: i * 100,
        end: i * 100 + 99,
        format: 'parquet',
      });
      if (i % 20 === 0) await mkdir(path.join(dir, hourDir), { recursive: true });
      await writeFile(path.join(dir, hourDir, name), '');
      if (i === perPartition - 1) last[p] = `${hourDir}/${name}`;
    }
  }
  const end = perPartition * 100 - 1;
  await fs.writeText(
    markerPathOf('clickstream', 0),
    serializeMarker({ topic: 'clickstream', partition: 0, endOffset: end, file: last[0], pending: null }),
  );
  let t = performance.now();
  const byMarker = await recoverPartition(fs, 'clickstream', 0, silentLogger());
  const byMarkerMs = performance.now() - t;
  t = performance.now();
  const byScan = await recoverPartition(fs, 'clickstream', 1, silentLogger());
  const byScanMs = performance.now() - t;
  if (byMarker.end !== end || byScan.end !== end || byMarker.by !== 'marker' || byScan.by !== 'scan') {
    throw new Error(
      `recovery found ${byMarker.end} (${byMarker.by}) and ${byScan.end} (${byScan.by}), expected ${end}`,
    );
  }
  await rm(dir, { recursive: true, force: true });
  return { byMarkerMs, byScanMs, filesPerPartition: perPartition };
}

const broker = await startBrokerProcess(PARTITIONS);
const registry = await startSchemaRegistry({ host: '127.0.0.1', port: 0 });
const kafka = new Kafka({ brokers: [broker.address], clientId: 'bench', logLevel: logLevel.NOTHING });
try {
  await produce(kafka, registry.url);
  const loadBefore = os.loadavg().map((l) => Number(l.toFixed(2)));
  const consume: number[] = [];
  const archived: number[] = [];
  const inThread: number[] = [];
  const shares: number[] = [];
  const consumeWithStartup: number[] = [];
  const archivedWithStartup: number[] = [];
  const sharesWithStartup: number[] = [];
  const cpuConsume: number[] = [];
  const cpuArchive: number[] = [];
  let files = 0;
  let bytes = 0;
  for (let run = 0; run < RUNS; run++) {
    const c = await consumeRate(kafka, run);
    consume.push(c.rate);
    consumeWithStartup.push(c.withStartup);
    const a = await archiveRate([broker.address], registry.url, run, true);
    archived.push(a.rate);
    archivedWithStartup.push(a.withStartup);
    shares.push(a.rate / c.rate);
    cpuConsume.push(c.cpuUsPerEvent);
    cpuArchive.push(a.cpuUsPerEvent);
    sharesWithStartup.push(a.withStartup / c.withStartup);
    inThread.push((await archiveRate([broker.address], registry.url, RUNS + run, false)).rate);
    files = a.files;
    bytes = a.bytes;
  }
  const recovery = await recoveryCost();
  const result = {
    events: EVENTS,
    partitions: PARTITIONS,
    consumeEventsPerSecond: summary(consume.map(Math.round)),
    archiveEventsPerSecond: summary(archived.map(Math.round)),
    archiveOnConsumerThreadEventsPerSecond: summary(inThread.map(Math.round)),
    /** Per run, archive ÷ consume (both measured in that run); the median and range over runs. */
    archiveShareOfConsume: summary(shares.map((x) => Number(x.toFixed(2)))),
    /** CPU of the process (all its threads) per event, µs: kafkajs alone, and the archive. */
    cpuUsPerEvent: {
      consume: summary(cpuConsume.map((x) => Number(x.toFixed(2)))),
      archive: summary(cpuArchive.map((x) => Number(x.toFixed(2)))),
    },
    /** The same three counted from each consumer's start (connection, group join, the archive's recovery). */
    withStartup: {
      consumeEventsPerSecond: summary(consumeWithStartup.map(Math.round)),
      archiveEventsPerSecond: summary(archivedWithStartup.map(Math.round)),
      archiveShareOfConsume: summary(sharesWithStartup.map((x) => Number(x.toFixed(2)))),
    },
    filesPerRun: files,
    bytesPerRun: bytes,
    recovery: { files: FILES, ...recovery },
    loadAverageBefore: loadBefore,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    cpus: os.cpus().length,
    at: new Date().toISOString(),
  };
  const row = (name: string, s: { median: number; min: number; max: number }) =>
    `${name.padEnd(40)} ${String(s.median).padStart(10)}   ${s.min}–${s.max}`;
  process.stdout.write(`\n${'measure'.padEnd(40)} ${'median'.padStart(10)}   range (${RUNS} runs)\n`);
  process.stdout.write(`${row('kafkajs consume, events/s', result.consumeEventsPerSecond)}\n`);
  process.stdout.write(`${row('archive to committed Parquet, events/s', result.archiveEventsPerSecond)}\n`);
  process.stdout.write(
    `${row('  the same, built on the consumer thread', result.archiveOnConsumerThreadEventsPerSecond)}\n`,
  );
  process.stdout.write(`${row('archive / consume (per run)', result.archiveShareOfConsume)}\n`);
  process.stdout.write(`${row('CPU µs per event: kafkajs consume', result.cpuUsPerEvent.consume)}\n`);
  process.stdout.write(`${row('  archive (all its threads)', result.cpuUsPerEvent.archive)}\n`);
  process.stdout.write(
    `${row('from the consumer start: consume', result.withStartup.consumeEventsPerSecond)}\n`,
  );
  process.stdout.write(`${row('  archive', result.withStartup.archiveEventsPerSecond)}\n`);
  process.stdout.write(`${row('  archive / consume (per run)', result.withStartup.archiveShareOfConsume)}\n`);
  process.stdout.write(`${'files, bytes per run'.padEnd(40)} ${String(files).padStart(10)}   ${bytes}\n`);
  process.stdout.write(
    `${`recovery, ${FILES} files: by marker, ms`.padEnd(40)} ${recovery.byMarkerMs.toFixed(1).padStart(10)}\n`,
  );
  process.stdout.write(
    `${`recovery, ${FILES} files: by name scan, ms`.padEnd(40)} ${recovery.byScanMs.toFixed(1).padStart(10)}\n`,
  );
  process.stdout.write(
    `load average ${result.loadAverageBefore.join(' ')} before, ${result.loadAverage.join(' ')} after, on ${result.cpus} cores\n`,
  );
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/archive.json', `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await registry.close();
  broker.child.kill('SIGTERM');
}
