/**
 * Idle TCP connections under the process's open-file limit: a client opens more connections to the gateway's port
 * than the process has descriptors, sends nothing, and opens each again as soon as it closes. The WebSocket limit does
 * not count them, so they took every descriptor of the process: Redis clients that lost their connection could not
 * connect again for as long as the flood lasted, and uWebSockets.js retried its failing accept without end. The
 * gateway now stops listening while descriptors run short (the spares it held released) and listens again once they
 * are free, on the same port.
 */
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/embedded/free-port.ts';
import { listenDecision, spareDescriptors } from '../../src/gateway/descriptor-limit.ts';
import { type ServeChild, startCroupierServe } from '../support/croupier-serve.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { CATALOGUE, eventually, helloAs, type TestClient, writeItems } from './support.ts';

const LIMIT = 256;
const FLOOD = 300;

/** Connections that send nothing, each opened again when it closes or fails, until `stop()`. */
function floodIdleConnections(port: number, count: number) {
  let stopped = false;
  const open = new Set<net.Socket>();
  const connectOne = () => {
    if (stopped) return;
    const socket = net.connect({ host: '127.0.0.1', port });
    open.add(socket);
    let connected = false;
    socket.on('connect', () => {
      connected = true;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      open.delete(socket);
      // Refused (the gateway not listening): try again a little later; closed by the gateway: at once.
      setTimeout(connectOne, connected ? 0 : 100);
    });
  };
  for (let i = 0; i < count; i++) connectOne();
  return {
    stop() {
      stopped = true;
      for (const socket of open) socket.destroy();
    },
  };
}

/** Clients of the test's redis-server other than the test's own. */
async function croupierRedisClients(redis: TestRedis): Promise<number> {
  const list = (await redis.client.client('LIST')) as string;
  return list.trim().split('\n').length - 1;
}

async function clickOnCarousel(client: TestClient, requestId: string) {
  client.send({ type: 'carousel', requestId, slots: 3 });
  const carousel = await client.next((m) => m.type === 'carousel' && m.requestId === requestId, 20_000);
  const items = carousel.items as { itemId: string }[];
  client.send({ type: 'feedback', requestId, itemId: items[0]?.itemId, kind: 'click' });
  const ack = await client.next((m) => m.type === 'feedback-ack' && m.requestId === requestId, 20_000);
  return { items: items.length, counted: ack.counted };
}

describe('idle TCP connections past the open-file limit', () => {
  let redis: TestRedis | undefined;
  let serve: ServeChild | undefined;
  let flood: { stop(): void } | undefined;
  const clients: TestClient[] = [];

  afterAll(async () => {
    flood?.stop();
    for (const client of clients) client.close();
    await serve?.stop();
    await redis?.close();
  });

  it('leave descriptors for Redis to connect again, and the gateway listens again on its port after', async () => {
    redis = await startTestRedis();
    const prefix = redis.prefix();
    await writeItems(redis.client, prefix, CATALOGUE, 0);
    serve = await startCroupierServe(
      [
        `redis.url=redis://${redis.server.host}:${redis.server.port}`,
        `redis.keyPrefix=${prefix}`,
        'log.level=silent',
      ],
      { openFileLimit: LIMIT },
    );
    const port = Number(new URL(serve.url).port);
    const wsUrl = `ws://127.0.0.1:${port}/ws`;
    const before = await helloAs(wsUrl, 'held-before');
    clients.push(before);
    expect(await clickOnCarousel(before, 'before-flood')).toEqual({ items: 3, counted: undefined });
    const redisClients = await croupierRedisClients(redis);
    expect(redisClients).toBeGreaterThan(0);

    const floodStarted = Date.now();
    flood = floodIdleConnections(port, FLOOD);
    // Twice during the flood every Redis client of croupier loses its connection: 3 s in, once the flood has taken
    // the descriptors, and 12 s in, after the gateway's idle timeout (10 s) closed the connections it holds and the
    // flood opened them again.
    const reconnects: boolean[] = [];
    for (const at of [3000, 12_000]) {
      await new Promise((r) => setTimeout(r, Math.max(0, floodStarted + at - Date.now())));
      await redis.client.call('CLIENT', 'KILL', 'TYPE', 'normal');
      // While the flood goes on they connect again: before, the descriptors stayed taken (EMFILE) and none came back.
      reconnects.push(
        await eventually(
          async () => ((await croupierRedisClients(redis as TestRedis)) >= redisClients ? true : undefined),
          15_000,
        ).catch(() => false),
      );
    }
    expect(reconnects).toEqual([true, true]);
    // A connection opened before the flood is served meanwhile, its click acknowledged by Kafka.
    expect(await clickOnCarousel(before, 'during-flood')).toEqual({ items: 3, counted: undefined });
    flood.stop();

    // The gateway listens again on the same port: /metrics says it stopped listening at least once.
    const metrics = await eventually(
      () =>
        fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) })
          .then((r) => r.text())
          .catch(() => undefined),
      20_000,
    );
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1]);
    expect(value('croupier_gateway_listen_pauses_total')).toBeGreaterThanOrEqual(1);
    const after = await helloAs(wsUrl, 'fresh-after');
    clients.push(after);
    expect(await clickOnCarousel(after, 'after-flood')).toEqual({ items: 3, counted: undefined });
  }, 60_000);

  it('does not keep croupier serve from stopping while the gateway is not listening', async () => {
    const port = Number(new URL(serve?.url ?? '').port);
    flood = floodIdleConnections(port, FLOOD);
    await new Promise((r) => setTimeout(r, 3000));
    const stopped = await serve?.stop();
    flood.stop();
    expect(stopped).toBe(0);
  }, 30_000);
});

describe('the probe port while idle TCP connections take the descriptors', () => {
  let redis: TestRedis | undefined;
  let serve: ServeChild | undefined;
  let flood: { stop(): void } | undefined;

  afterAll(async () => {
    flood?.stop();
    await serve?.stop();
    await redis?.close();
  });

  it('answers /healthz, and /readyz not ready naming why while the gateway does not listen, ready after', async () => {
    redis = await startTestRedis();
    const prefix = redis.prefix();
    await writeItems(redis.client, prefix, CATALOGUE, 0);
    const probePort = await freePort();
    serve = await startCroupierServe(
      [
        `redis.url=redis://${redis.server.host}:${redis.server.port}`,
        `redis.keyPrefix=${prefix}`,
        `gateway.probePort=${probePort}`,
        'log.level=silent',
      ],
      { openFileLimit: LIMIT },
    );
    const port = Number(new URL(serve.url).port);
    const get = (at: number, path: string) =>
      fetch(`http://127.0.0.1:${at}${path}`, { signal: AbortSignal.timeout(3000) }).then(
        async (r) => ({ status: r.status, body: await r.text() }),
        (error: Error) => ({ status: 0, body: String(error.cause ?? error) }),
      );
    const probe = (path: string) => get(probePort, path);
    flood = floodIdleConnections(port, FLOOD);
    // Probes through new connections, as a load balancer's or kubelet's, for as long as two pauses take: on the probe
    // port and, for comparison, on the gateway's own.
    const unanswered = { probePort: 0, gatewayPort: 0 };
    let probes = 0;
    const notReady: string[] = [];
    const until = Date.now() + 14_000;
    while (Date.now() < until) {
      probes++;
      if ((await probe('/healthz')).status !== 200) unanswered.probePort++;
      if ((await get(port, '/healthz')).status !== 200) unanswered.gatewayPort++;
      const ready = await probe('/readyz');
      if (ready.status !== 200) notReady.push(ready.body);
      await new Promise((r) => setTimeout(r, 250));
    }
    flood.stop();
    // The gateway's port refused probes while it did not listen; the probe port answered them (it can miss one only
    // in the quarter second between the descriptors running out and the gateway ceasing to listen).
    expect(unanswered.gatewayPort).toBeGreaterThan(0);
    expect(unanswered.probePort).toBeLessThan(unanswered.gatewayPort);
    expect(probes - unanswered.probePort).toBeGreaterThan(probes / 2);
    // While the gateway's port refused every new connection, its readiness said so.
    expect(notReady.length).toBeGreaterThan(0);
    for (const body of notReady)
      expect(body).toContain('the gateway stopped listening (new connections refused)');
    expect(
      await eventually(async () => ((await probe('/readyz')).status === 200 ? true : undefined), 30_000),
    ).toBe(true);
    const metrics = (await probe('/metrics')).body;
    expect(Number(/^croupier_gateway_listen_pauses_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(
      1,
    );
  }, 90_000);
});

describe('the listen decision', () => {
  it('stops listening once fewer than a quarter of the spares are free besides them, and listens at twice the spares', () => {
    expect([spareDescriptors(160), spareDescriptors(1024), spareDescriptors(65_536)]).toEqual([32, 128, 256]);
    expect(listenDecision(true, { limit: 256, open: 248 }, 32)).toBe('keep');
    expect(listenDecision(true, { limit: 256, open: 249 }, 32)).toBe('pause');
    expect(listenDecision(true, 'exhausted', 32)).toBe('pause');
    expect(listenDecision(false, 'exhausted', 32)).toBe('keep');
    expect(listenDecision(false, { limit: 256, open: 193 }, 32)).toBe('keep');
    expect(listenDecision(false, { limit: 256, open: 192 }, 32)).toBe('resume');
    expect(listenDecision(true, null, 32)).toBe('keep');
    expect(listenDecision(false, null, 32)).toBe('keep');
  });
});
