/**
 * `croupier start` in its own process for the load benchmarks, with a catalog of `items` published as CDC events
 * and awaited at the gateway (a carousel of 100 slots comes back full), and the scheduled jobs off (retraining
 * would write model files and add a training run's CPU to the figures). `settings` are extra `--set key=value`s.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { GatewayClient } from '../simulator/client/gateway-client.ts';
import { createKafkaCdcPublisher } from '../simulator/client/kafka-publisher.ts';
import { snapshotRecords } from '../simulator/world/cdc.ts';
import { loadScenario } from '../simulator/world/scenario.ts';
import { createWorld } from '../simulator/world/world.ts';
import { parseConfig } from '../src/config/index.ts';
import { freePort } from '../src/embedded/free-port.ts';
import { createEventCodec, createKafka } from '../src/kafka/index.ts';
import { loadSchemas } from '../streams/schemas/index.ts';

export interface CroupierProcess {
  child: ChildProcess;
  /** The gateway's WebSocket URL. */
  url: string;
  metricsUrl: string;
  stop(): Promise<void>;
}

export interface CroupierProcessOptions {
  items: number;
  settings?: readonly string[];
  /** Write a V8 CPU profile per thread into this directory when it stops. */
  profileDir?: string;
}

export async function startCroupierWithCatalog(options: CroupierProcessOptions): Promise<CroupierProcess> {
  const [gatewayPort, brokerPort, registryPort] = [await freePort(), await freePort(), await freePort()];
  const sets = [
    `gateway.port=${gatewayPort}`,
    `broker.port=${brokerPort}`,
    `schemaRegistry.embedded.port=${registryPort}`,
    'log.level=warn',
    'jobs.enabled=false',
    ...(options.settings ?? []),
  ];
  const child = spawn(
    process.execPath,
    [
      ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : []),
      'bin/croupier.js',
      'start',
      ...sets.flatMap((s) => ['--set', s]),
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
      if (child.exitCode !== null) return resolve();
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
    const world = createWorld({ ...base, items: { ...base.items, initial: options.items } });
    await publisher.publish(snapshotRecords(world, Date.now()));
    await publisher.close();
    const url = `ws://127.0.0.1:${gatewayPort}/ws`;
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
    return { child, url, metricsUrl: `http://127.0.0.1:${gatewayPort}/metrics`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
