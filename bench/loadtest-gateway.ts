/**
 * Latency versus rate of the whole gateway, measured as a user would: `croupier start` in its own process,
 * a catalog of 200 items published as CDC events (so every carousel ranks 200 candidates), then
 * `croupier loadtest` from this process: open loop, calibrated against a bare echo server first.
 *
 *   npm run bench:loadtest -- [rates=1000,2000,5000,7500,10000] [stepSeconds=10]
 *
 * With CROUPIER_CPU_PROF=DIR the croupier process writes a V8 CPU profile per thread into DIR when it stops
 * (node --cpu-prof), the profile docs/performance.md reads.
 *
 * Writes bench/results/loadtest-gateway.json and docs/img/loadtest-gateway.svg, prints a Markdown table.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { runLoadTest } from '../load-tests/loadtest.ts';
import { resultSvg, resultTable } from '../load-tests/report.ts';
import { GatewayClient } from '../simulator/client/gateway-client.ts';
import { createKafkaCdcPublisher } from '../simulator/client/kafka-publisher.ts';
import { snapshotRecords } from '../simulator/world/cdc.ts';
import { loadScenario } from '../simulator/world/scenario.ts';
import { createWorld } from '../simulator/world/world.ts';
import { parseConfig } from '../src/config/index.ts';
import { freePort } from '../src/embedded/free-port.ts';
import { createEventCodec, createKafka } from '../src/kafka/index.ts';
import { loadSchemas } from '../streams/schemas/index.ts';
import { cpuPartsProbe, partsTable } from './cpu-parts.ts';

const loadBefore = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const rates = (process.argv[2] ?? '1000,2000,5000,7500,10000').split(',').map(Number);
const stepSeconds = Number(process.argv[3] ?? 10);
const ITEMS = 200;

const [gatewayPort, brokerPort, registryPort] = [await freePort(), await freePort(), await freePort()];
const profileDir = process.env.CROUPIER_CPU_PROF;
const child = spawn(
  process.execPath,
  [
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    'bin/croupier.js',
    'start',
    '--set',
    `gateway.port=${gatewayPort}`,
    '--set',
    `broker.port=${brokerPort}`,
    '--set',
    `schemaRegistry.embedded.port=${registryPort}`,
    '--set',
    'log.level=warn',
    // The scheduled jobs (retraining every 10 minutes, into the repository's models/ registry) are no part of
    // serving: they would write model files here and add a training run's CPU to the figures.
    '--set',
    'jobs.enabled=false',
  ],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
await new Promise<void>((resolve, reject) => {
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('croupier is running')) resolve();
  });
  child.once('exit', (code) => reject(new Error(`croupier start exited with ${code}`)));
});
const stop = () =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

try {
  const config = parseConfig({});
  const publisher = await createKafkaCdcPublisher({
    kafka: createKafka(config.kafka, [`127.0.0.1:${brokerPort}`]),
    codec: createEventCodec({ registryUrl: `http://127.0.0.1:${registryPort}`, schemas: loadSchemas() }),
    topics: config.kafka.topics,
    partitions: config.kafka.partitions,
  });
  const base = loadScenario('steady-state');
  if (base.kind !== 'world') throw new Error('steady-state must be a world scenario');
  const world = createWorld({ ...base, items: { ...base.items, initial: ITEMS } });
  await publisher.publish(snapshotRecords(world, Date.now()));
  await publisher.close();
  const url = `ws://127.0.0.1:${gatewayPort}/ws`;
  // Wait until the pool is full: a carousel of 100 slots (the most a request may ask) comes back full.
  const probe = await GatewayClient.connect({ url });
  await probe.hello('bench-probe');
  for (let i = 0; ; i++) {
    const reply = await probe.carousel({ requestId: `probe-${i}`, slots: 100 });
    if (reply.type === 'carousel' && reply.items.length === 100) break;
    if (i > 300) throw new Error('the catalog did not reach the gateway in 60 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await probe.close();

  const result = await runLoadTest(
    {
      url,
      rates,
      stepSeconds,
      warmupSeconds: 5,
      connections: Math.max(16, Math.ceil(Math.max(...rates) / 100)),
      timeoutMs: 2000,
      slots: 10,
      users: 1000,
      mode: 'open',
      calibrate: true,
      stepProbe: cpuPartsProbe({
        croupierPid: child.pid!,
        metricsUrl: `http://127.0.0.1:${gatewayPort}/metrics`,
      }),
    },
    (phase, step) =>
      console.error(`${phase} ${step.rate}/s: p50 ${step.latency.p50} ms, p99 ${step.latency.p99} ms`),
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/loadtest-gateway.json',
    `${JSON.stringify({ ...result, loadAverageBefore: loadBefore }, null, 2)}\n`,
  );
  mkdirSync('docs/img', { recursive: true });
  writeFileSync('docs/img/loadtest-gateway.svg', resultSvg(result));
  console.log(resultTable(result, true));
  console.log(`\n${resultTable(result)}`);
  console.log(
    `\nCPU per part (cores; event-loop busy share in brackets; load average before the run ${loadBefore}):\n`,
  );
  console.log(partsTable(result.steps));
} finally {
  await stop();
}
