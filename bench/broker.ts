/**
 * Throughput of the embedded broker on loopback with 1 KB messages: produce and consume with kcat
 * (librdkafka) and with kafkajs, and the broker's CPU seconds per GB moved. The broker runs as a child
 * process (`croupier broker`, in memory) so its CPU is measured apart from the clients'. Prints a table,
 * writes bench/results/broker.json.
 *
 *   npm run bench:broker [-- --messages 200000] [-- --quick]
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const { values: args } = parseArgs({
  options: { messages: { type: 'string' }, quick: { type: 'boolean', default: false } },
});
const MESSAGES = Number(args.messages ?? (args.quick ? 50_000 : 200_000));
const SIZE = 1024;
const PARTITIONS = 4;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TICK = 100; // clock ticks per second in /proc/<pid>/stat (USER_HZ)

interface Row {
  client: 'kcat' | 'kafkajs';
  direction: 'produce' | 'consume';
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  mbPerSecond: number;
  brokerCpuSeconds: number;
  brokerCpuSecondsPerGB: number;
  /** Broker CPU as a share of the wall time (1 = one core busy). */
  brokerCpuShare: number;
  clientCpuShare: number | null;
}

function procCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK; // utime + stime
}

function startBroker(): Promise<{ address: string; pid: number; stop(): void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/croupier.js'),
        'broker',
        '--port',
        '0',
        '--partitions',
        String(PARTITIONS),
        '--set',
        'log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /broker: (\S+)/.exec(out);
      if (m) resolve({ address: m[1]!, pid: child.pid!, stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`broker exited with ${code}`)));
  });
}

function run(cmd: string, argv: string[], stdinFile?: string): Promise<{ seconds: number; cpu: number }> {
  return new Promise((resolve, reject) => {
    const stdin = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
    const before = process.hrtime.bigint();
    const child = spawn(cmd, argv, { stdio: [stdin, 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => {
      if (typeof stdin === 'number') closeSync(stdin);
      const seconds = Number(process.hrtime.bigint() - before) / 1e9;
      if (code !== 0) reject(new Error(`${cmd} exited with ${code}: ${err}`));
      else resolve({ seconds, cpu: Number.NaN });
    });
  });
}

function row(
  client: Row['client'],
  direction: Row['direction'],
  seconds: number,
  brokerCpu: number,
  clientCpu: number | null,
): Row {
  const bytes = MESSAGES * SIZE;
  return {
    client,
    direction,
    messages: MESSAGES,
    seconds: round(seconds, 3),
    messagesPerSecond: Math.round(MESSAGES / seconds),
    mbPerSecond: round(bytes / 1e6 / seconds, 1),
    brokerCpuSeconds: round(brokerCpu, 2),
    brokerCpuSecondsPerGB: round(brokerCpu / (bytes / 1e9), 2),
    brokerCpuShare: round(brokerCpu / seconds, 2),
    clientCpuShare: clientCpu === null ? null : round(clientCpu / seconds, 2),
  };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const broker = await startBroker();
  const kafka = new Kafka({ clientId: 'bench', brokers: [broker.address], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: ['bench-kcat', 'bench-kafkajs'].map((topic) => ({ topic, numPartitions: PARTITIONS })),
  });
  const rows: Row[] = [];
  const tmp = mkdtempSync(join(os.tmpdir(), 'bench-broker-'));
  try {
    // kcat produce: one 1 KB line per message.
    const file = join(tmp, 'messages');
    const line = Buffer.alloc(SIZE + 1, 'x');
    line[SIZE] = 0x0a;
    const block = Buffer.concat(Array.from({ length: 1000 }, () => line));
    const fd = openSync(file, 'w');
    for (let i = 0; i < MESSAGES / 1000; i++) writeFileSync(fd, block);
    closeSync(fd);

    let cpu0 = procCpuSeconds(broker.pid);
    const kp = await run(
      'kcat',
      ['-b', broker.address, '-P', '-t', 'bench-kcat', '-X', 'linger.ms=5', '-X', 'batch.size=1000000'],
      file,
    );
    rows.push(row('kcat', 'produce', kp.seconds, procCpuSeconds(broker.pid) - cpu0, null));

    cpu0 = procCpuSeconds(broker.pid);
    const kc = await run('kcat', [
      '-b',
      broker.address,
      '-C',
      '-t',
      'bench-kcat',
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%s\n',
    ]);
    rows.push(row('kcat', 'consume', kc.seconds, procCpuSeconds(broker.pid) - cpu0, null));

    // kafkajs produce: batches of 1000, four in flight.
    const producer = kafka.producer();
    await producer.connect();
    const value = Buffer.alloc(SIZE, 'y');
    const batch = Array.from({ length: 1000 }, () => ({ value }));
    cpu0 = procCpuSeconds(broker.pid);
    let client0 = process.cpuUsage();
    let start = process.hrtime.bigint();
    let sent = 0;
    const sender = async () => {
      while (sent < MESSAGES) {
        sent += batch.length;
        await producer.send({ topic: 'bench-kafkajs', acks: -1, messages: batch });
      }
    };
    await Promise.all([sender(), sender(), sender(), sender()]);
    let seconds = Number(process.hrtime.bigint() - start) / 1e9;
    let clientCpu = process.cpuUsage(client0);
    rows.push(
      row(
        'kafkajs',
        'produce',
        seconds,
        procCpuSeconds(broker.pid) - cpu0,
        (clientCpu.user + clientCpu.system) / 1e6,
      ),
    );
    await producer.disconnect();

    // kafkajs consume: eachBatch until every message is seen.
    const consumer = kafka.consumer({
      groupId: 'bench',
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: 'bench-kafkajs', fromBeginning: true });
    let received = 0;
    cpu0 = procCpuSeconds(broker.pid);
    client0 = process.cpuUsage();
    start = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      consumer.run({
        eachBatch: async ({ batch: b }) => {
          received += b.messages.length;
          if (received >= MESSAGES) resolve();
        },
      });
    });
    seconds = Number(process.hrtime.bigint() - start) / 1e9;
    clientCpu = process.cpuUsage(client0);
    rows.push(
      row(
        'kafkajs',
        'consume',
        seconds,
        procCpuSeconds(broker.pid) - cpu0,
        (clientCpu.user + clientCpu.system) / 1e6,
      ),
    );
    await consumer.disconnect();
  } finally {
    await admin.disconnect();
    broker.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  const result = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? 'unknown',
      loadAverageBefore: loadBefore,
    },
    node: process.version,
    messageBytes: SIZE,
    partitions: PARTITIONS,
    rows,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/broker.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`embedded broker, ${MESSAGES} messages of ${SIZE} B, ${PARTITIONS} partitions, loopback`);
  console.log(
    `load average before: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.table(
    rows.map((r) => ({
      client: r.client,
      direction: r.direction,
      'msg/s': r.messagesPerSecond,
      'MB/s': r.mbPerSecond,
      'broker CPU s/GB': r.brokerCpuSecondsPerGB,
      'broker CPU share': r.brokerCpuShare,
      'client CPU share': r.clientCpuShare ?? '-',
    })),
  );
}

await main();
