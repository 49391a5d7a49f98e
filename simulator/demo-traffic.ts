/**
 * Demo traffic for `croupier start`: the simulator's world publishes its catalog and users as CDC events and
 * plays sessions against the gateway at a modest rate, answering carousels with simulated clicks, so a
 * newcomer sees carousels learn on the page. Runs until closed; never started against a production Kafka
 * unless `demo.traffic` is `on`.
 */
import type { Kafka } from 'kafkajs';
import type { StartedLoop } from '../src/app/start.ts';
import type { Config } from '../src/config/index.ts';
import { signClientToken } from '../src/gateway/auth.ts';
import type { EventCodec } from '../src/kafka/index.ts';
import type { Logger } from '../src/log/logger.ts';
import { simulateAgainstGateway } from './client/gateway-driver.ts';
import { createKafkaCdcPublisher } from './client/kafka-publisher.ts';
import { loadScenario } from './world/scenario.ts';

export interface DemoTrafficOptions {
  config: Readonly<Config>;
  kafka: Kafka;
  codec: Pick<EventCodec, 'encode'>;
  /** The gateway's HTTP URL (the WebSocket is at /ws). */
  gatewayUrl: string;
  logger: Logger;
}

export interface DemoTrafficHandle {
  close(): Promise<void>;
}

/** A week of wall time: the demo runs until croupier stops. */
const DEMO_SECONDS = 7 * 24 * 3600;

/** With auth on, the demo's users sign in as a login service would: tokens signed with the gateway's secret. */
function tokens(config: Readonly<Config>): { tokenFor?: (userId: string) => string } {
  const secret = config.gateway.authSecret;
  if (config.gateway.authDisabled || secret === undefined) return {};
  return { tokenFor: (userId) => signClientToken(secret, userId, TOKEN_TTL_SECONDS) };
}

/** A demo user's token lasts a day; each session signs a new one. */
const TOKEN_TTL_SECONDS = 24 * 3600;

export async function startDemoTraffic(options: DemoTrafficOptions): Promise<DemoTrafficHandle> {
  const { config, logger } = options;
  const log = logger.child({ component: 'demo-traffic' });
  const scenario = loadScenario(config.demo.scenario);
  const publisher = await createKafkaCdcPublisher({
    kafka: options.kafka,
    codec: options.codec,
    topics: config.kafka.topics,
    partitions: config.kafka.partitions,
  });
  const abort = new AbortController();
  const url = `${options.gatewayUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/ws`;
  log.info(
    { scenario: scenario.name, rate: config.demo.rate, clients: config.demo.clients },
    'demo traffic: simulated users play against the gateway (demo.traffic=off to stop it)',
  );
  const run = simulateAgainstGateway({
    url,
    scenario,
    seed: config.demo.seed,
    durationSeconds: DEMO_SECONDS,
    rate: config.demo.rate,
    clients: config.demo.clients,
    publisher,
    logger: log,
    signal: abort.signal,
    ...tokens(config),
  }).catch((error: unknown) => {
    if (!abort.signal.aborted) log.error({ err: error }, 'demo traffic stopped');
  });
  return {
    async close() {
      abort.abort();
      await run;
      await publisher.close();
    },
  };
}

/**
 * The `onStarted` hook of `croupier start`: demo traffic on the embedded broker (`demo.traffic=auto`), or on
 * any broker when `demo.traffic=on`; never into a production Kafka otherwise.
 */
export async function startDemoTrafficIfWanted(loop: StartedLoop): Promise<DemoTrafficHandle | undefined> {
  const { traffic } = loop.config.demo;
  if (
    traffic === 'on' ||
    (traffic === 'auto' && loop.endpoints.embedded.broker && loop.config.cdc.postgresUrl === '')
  )
    return startDemoTraffic(loop);
  return undefined;
}
