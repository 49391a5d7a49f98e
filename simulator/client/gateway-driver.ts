/**
 * Plays a scenario against a running gateway: the world's catalog and user changes go to Kafka as CDC events
 * (`cdc.items`, `cdc.users`), its sessions arrive on the wall clock over N concurrent WebSocket clients, and
 * each carousel the gateway deals is answered with what the simulated user does (clicks, conversions, watch
 * time as `feedback`). Since the world knows every true click probability, the report carries the regret of
 * the gateway's slates against the oracle, per policy and experiment variant.
 *
 * Simulated time runs `timeScale` times faster than the wall clock, so a scenario of hours plays in the
 * `durationSeconds` asked for; `rate` sets the requests per wall second.
 */
import * as hdr from 'hdr-histogram-js';
import type { Logger } from '../../src/log/logger.ts';
import { createRng } from '../../src/stats/rng.ts';
import type { RecordingWriter } from '../replay/recording.ts';
import { SeriesRecorder, type SimulationReport } from '../report/series.ts';
import { type CdcRecord, eventRecords, snapshotRecords } from '../world/cdc.ts';
import type { SimItem } from '../world/population.ts';
import type { Scenario } from '../world/scenario.ts';
import { createWorld, type Session } from '../world/world.ts';
import { GatewayClient } from './gateway-client.ts';

export interface CdcPublisher {
  publish(records: readonly CdcRecord[]): Promise<void>;
}

export interface GatewaySimulationOptions {
  url: string;
  scenario: Scenario;
  seed?: number;
  /** Seed of the sessions and responses apart from the world's (WorldOptions.sessionSeed). */
  sessionSeed?: number;
  /** Wall-clock seconds to run. */
  durationSeconds: number;
  /** Carousel requests per wall second (default: the scenario's own rate, time-scaled). */
  rate?: number;
  /** Concurrent WebSocket clients. */
  clients: number;
  /** CDC events go here; null: the catalog is already in the gateway. */
  publisher: CdcPublisher | null;
  recorder?: RecordingWriter | null;
  logger: Logger;
  /** How long to wait for the gateway to show items after the snapshot is published. */
  poolTimeoutMs?: number;
  /** Ends the run early (sessions in flight finish; none start after). */
  signal?: AbortSignal;
  /** The client token of a user, for a gateway with auth on (`hello` carries it). */
  tokenFor?: (userId: string) => string;
}

const RESPONSE_STREAM = 9_000_011;

function timeScaleOf(options: GatewaySimulationOptions): { timeScale: number; sessionsPerSecond?: number } {
  const { scenario } = options;
  if (scenario.kind === 'k-armed') {
    return { timeScale: (options.rate ?? scenario.requestsPerSecond) / scenario.requestsPerSecond };
  }
  const timeScale = scenario.durationSeconds / options.durationSeconds;
  if (options.rate === undefined) return { timeScale };
  return { timeScale, sessionsPerSecond: options.rate / scenario.requestsPerSession / timeScale };
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function simulateAgainstGateway(options: GatewaySimulationOptions): Promise<SimulationReport> {
  const { logger, recorder } = options;
  const { timeScale, sessionsPerSecond } = timeScaleOf(options);
  const world = createWorld(options.scenario, {
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.sessionSeed !== undefined ? { sessionSeed: options.sessionSeed } : {}),
    ...(sessionsPerSecond !== undefined ? { sessionsPerSecond } : {}),
  });
  const simEnd = options.durationSeconds * timeScale;
  const recorder_ = new SeriesRecorder(simEnd / 12);
  const responses = createRng(world.sessionSeed + RESPONSE_STREAM);
  const byId = new Map<string, SimItem>(world.items.map((item) => [item.itemId, item]));
  const latency = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const epochMs = Date.now();
  const wallStart = performance.now();
  const elapsedMs = () => performance.now() - wallStart;
  let lsn = 1_000_000;
  let published = 0;
  let requests = 0;
  let failures = 0;
  let feedback = 0;

  const publish = async (records: CdcRecord[]) => {
    if (options.publisher === null || records.length === 0) return;
    await options.publisher.publish(records);
    published += records.length;
  };

  await publish(snapshotRecords(world, epochMs));
  recorder?.write({
    kind: 'meta',
    scenario: options.scenario.name,
    seed: world.seed,
    url: options.url,
    startedAt: new Date(epochMs).toISOString(),
  });

  const traffic = (userId: () => string) => (direction: 'out' | 'in', text: string) => {
    if (recorder === null || recorder === undefined) return;
    const message = JSON.parse(text) as { type: string };
    const t = Math.round(elapsedMs() * 1000) / 1000;
    if (direction === 'out' && message.type === 'carousel') {
      recorder.write({ kind: 'request', t, userId: userId(), request: message as never });
    } else if (direction === 'out' && message.type === 'feedback') {
      recorder.write({ kind: 'feedback', t, userId: userId(), feedback: message as never });
    } else if (direction === 'in' && message.type === 'carousel') {
      recorder.write({ kind: 'response', t, userId: userId(), response: message as never });
    }
  };

  const probe = await GatewayClient.connect({ url: options.url });
  await waitForPool(probe, world.slots, options.poolTimeoutMs ?? 30_000, logger, options.tokenFor);
  await probe.close();
  const clients: Array<{ client: GatewayClient; user: string }> = [];
  for (let c = 0; c < options.clients; c++) {
    const slot = { client: null as unknown as GatewayClient, user: '' };
    slot.client = await GatewayClient.connect({ url: options.url, onTraffic: traffic(() => slot.user) });
    clients.push(slot);
  }
  const wallStartSessions = performance.now();

  let sequence = 0;
  const runSession = async (slot: { client: GatewayClient; user: string }, session: Session) => {
    // Sessions still queued when the run is over are dropped, not played late.
    if ((performance.now() - wallStartSessions) / 1000 > options.durationSeconds + 5) return;
    if (options.signal?.aborted) return;
    if (slot.client.closed) {
      logger.warn('a client connection closed; reconnecting');
      slot.client = await GatewayClient.connect({ url: options.url, onTraffic: traffic(() => slot.user) });
    }
    const user = session.user;
    slot.user = user.userId;
    const context = { device: session.device, country: user.country, page: session.page };
    await slot.client.hello(user.userId, context, options.tokenFor?.(user.userId));
    for (let r = 0; r < session.requests; r++) {
      const requestId = `sim-${world.seed}-${sequence++}`;
      const sentAt = performance.now();
      requests++;
      const reply = await slot.client.carousel({ requestId, slots: world.slots, context }).catch(() => null);
      latency.recordValue(Math.max(1, Math.round((performance.now() - sentAt) * 1000)));
      if (reply === null || reply.type === 'error') {
        failures++;
        continue;
      }
      const slate = reply.items
        .map((it) => byId.get(it.itemId))
        .filter((it): it is SimItem => it !== undefined);
      const outcomes = world.model.respond(responses, user, slate);
      for (const outcome of outcomes) {
        if (!outcome.clicked) continue;
        const base = { type: 'feedback', requestId, itemId: outcome.itemId } as const;
        slot.client.send({ ...base, kind: 'click' });
        slot.client.send({ ...base, kind: 'watch', watchTimeMs: outcome.watchMs });
        if (outcome.converted)
          slot.client.send({ ...base, kind: 'conversion', value: +outcome.value.toFixed(2) });
        feedback += outcome.converted ? 3 : 2;
      }
      const label = reply.variant ? `${reply.policy}/${reply.variant}` : reply.policy;
      recorder_.record(
        label,
        session.at,
        outcomes,
        world.model.expectedClicks(user, slate),
        world.model.oracleClicks(user, world.liveItems(), world.slots),
      );
    }
  };

  // Sessions start at their simulated arrival times, mapped onto the wall clock; idle clients take them.
  const idle = [...clients];
  const queue: Session[] = [];
  const running = new Set<Promise<void>>();
  const dispatch = () => {
    while (idle.length > 0 && queue.length > 0) {
      const slot = idle.shift()!;
      const session = queue.shift()!;
      const task = runSession(slot, session)
        .catch((error) => {
          failures++;
          logger.warn({ err: error }, 'session failed');
        })
        .finally(() => {
          running.delete(task);
          idle.push(slot);
          dispatch();
        });
      running.add(task);
    }
  };
  for (;;) {
    const session = world.nextSession();
    if (session.at >= simEnd || options.signal?.aborted) break;
    const wait = session.at / timeScale - (performance.now() - wallStartSessions) / 1000;
    if (wait > 0.002) await abortableSleep(wait * 1000, options.signal);
    if (options.signal?.aborted) break;
    const events = world.advance(session.at);
    for (const event of events) {
      if (event.type === 'item-added') byId.set(event.item.itemId, event.item);
      await publish(eventRecords(world, event, epochMs, lsn++));
    }
    queue.push(session);
    dispatch();
  }
  await Promise.all([...running]);
  const acks = clients.reduce((sum, s) => sum + s.client.acks, 0);
  await Promise.all(clients.map((s) => s.client.close()));
  logger.info({ requests, failures, published, feedback, acks }, 'simulation against the gateway done');
  return {
    scenario: options.scenario.name,
    seed: world.seed,
    mode: 'gateway',
    bucketSeconds: simEnd / 12,
    series: recorder_.series(),
    notes: {
      gateway: options.url,
      'carousel requests': requests,
      'failed requests': failures,
      'feedback messages': feedback,
      'feedback acks': acks,
      'CDC records published': published,
      'round trip p50 ms': latency.getValueAtPercentile(50) / 1000,
      'round trip p99 ms': latency.getValueAtPercentile(99) / 1000,
      'simulated seconds per wall second': +timeScale.toFixed(3),
    },
  };
}

/** Waits until the gateway deals a full carousel: the CDC snapshot has reached its item pool. */
async function waitForPool(
  client: GatewayClient,
  slots: number,
  timeoutMs: number,
  logger: Logger,
  tokenFor?: (userId: string) => string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  await client.hello('sim-probe', undefined, tokenFor?.('sim-probe'));
  for (let attempt = 0; ; attempt++) {
    const reply = await client.carousel({ requestId: `sim-probe-${attempt}`, slots }).catch(() => null);
    if (reply?.type === 'carousel' && reply.items.length >= slots) return;
    if (performance.now() > deadline) {
      logger.warn({ timeoutMs }, 'the gateway still deals short carousels; is the stream topology running?');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
