import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.ts';
import { type ServingHandle, startServing } from '../../src/gateway/serving.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { startTestRegistry, type TestRegistry } from '../support/registry.ts';
import { CATALOGUE, connectClient, writeItems } from './support.ts';

const ADMIN = 'serving-admin-token';
let redis: TestRedis;
let broker: TestBroker;
let registry: TestRegistry;
let serving: ServingHandle;

beforeAll(async () => {
  [redis, broker, registry] = await Promise.all([startTestRedis(), startTestBroker(), startTestRegistry()]);
  const prefix = redis.prefix();
  await writeItems(redis.client, prefix, CATALOGUE);
  const config = parseConfig({
    kafka: { partitions: 2 },
    redis: { keyPrefix: prefix },
    model: { watchRegistry: false },
    gateway: { port: 0, adminToken: ADMIN },
    log: { level: 'silent' },
  });
  serving = await startServing({
    config,
    logger: silentLogger(),
    redis: redis.client,
    brokers: broker.brokers,
    registryUrl: registry.url,
  });
});

afterAll(async () => {
  await serving?.close();
  await Promise.all([redis?.close(), broker?.close(), registry?.close()]);
});

describe('startServing: the gateway wired from the config', () => {
  it('deals carousels, and swaps experiments through the admin endpoint without a restart', async () => {
    const base = `http://127.0.0.1:${serving.gateway.port}`;
    const client = await connectClient(`ws://127.0.0.1:${serving.gateway.port}/ws`);
    client.send({ type: 'hello', userId: 'u-1' });
    await client.next((m) => m.type === 'welcome');
    client.send({ type: 'carousel', requestId: 'before', slots: 3 });
    expect(await client.next((m) => m.type === 'carousel')).toMatchObject({
      requestId: 'before',
      policy: 'thompson',
      experiment: null,
    });

    const experiments = {
      layers: [
        {
          name: 'ranking',
          salt: 'ranking-1',
          experiments: [
            { name: 'all-greedy', range: [0, 100], variants: [{ name: 'greedy', policy: 'greedy' }] },
          ],
        },
      ],
    };
    const put = await fetch(`${base}/admin/experiments`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(experiments),
    });
    expect(put.status).toBe(200);
    client.send({ type: 'carousel', requestId: 'after', slots: 3 });
    expect(await client.next((m) => m.type === 'carousel')).toMatchObject({
      requestId: 'after',
      policy: 'greedy',
      experiment: 'all-greedy',
      variant: 'greedy',
    });

    const bad = await fetch(`${base}/admin/experiments`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ layers: [{ name: 'x' }] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('salt');

    const reload = await fetch(`${base}/admin/model/reload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(reload.status).toBe(200);
    expect(((await reload.json()) as { version: string }).version).toBe(serving.scorer.model.version);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/croupier_scoring_batch_size_count [1-9]/);
    client.close();
  });
});
