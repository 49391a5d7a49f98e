/**
 * `croupier serve` told to stop (SIGTERM) ends while clients still hold connections to the gateway's port: a
 * load balancer's keep-alive health checks, a request every quarter second, kept it running for as long as they came.
 */
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServeChild, startCroupierServe } from '../support/croupier-serve.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { CATALOGUE, writeItems } from './support.ts';

let redis: TestRedis | undefined;
let serve: ServeChild | undefined;
afterAll(async () => {
  if (serve) process.kill(serve.pid, 'SIGKILL');
  await redis?.close();
});

describe('croupier serve stopping', () => {
  it('ends on SIGTERM while a keep-alive client sends it a request every quarter second', async () => {
    redis = await startTestRedis();
    const prefix = redis.prefix();
    await writeItems(redis.client, prefix, CATALOGUE, 0);
    serve = await startCroupierServe([
      `redis.url=redis://${redis.server.host}:${redis.server.port}`,
      `redis.keyPrefix=${prefix}`,
      'log.level=silent',
    ]);
    const port = Number(new URL(serve.url).port);
    const client = net.connect({ host: '127.0.0.1', port });
    client.on('error', () => {});
    let answers = 0;
    client.on('data', (chunk) => {
      answers += chunk.toString('latin1').split('HTTP/1.1 200 OK').length - 1;
    });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const checks = setInterval(() => {
      if (client.writable) client.write('GET /healthz HTTP/1.1\r\nHost: lb\r\n\r\n');
    }, 250);
    try {
      while (answers < 4) await new Promise((r) => setTimeout(r, 100));
      const exit = await Promise.race([
        serve.stop(),
        new Promise((r) => setTimeout(() => r('still running 20 s after SIGTERM'), 20_000)),
      ]);
      expect(exit).toBe(0);
      await closed;
      serve = undefined;
    } finally {
      clearInterval(checks);
      client.destroy();
    }
  }, 60_000);
});
