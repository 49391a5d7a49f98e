import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.ts';
import type { CarouselItemMessage } from '../../src/domain/protocol-messages.ts';
import { type ServingHandle, startServing } from '../../src/gateway/serving.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { carouselImpressions } from '../../streams/schemas/carousel-impressions.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { startTestRegistry, type TestRegistry } from '../support/registry.ts';
import { CATALOGUE, connectClient, eventually, tailTopic, writeItems } from './support.ts';

const ADMIN = 'serving-admin-token';
let redis: TestRedis;
let broker: TestBroker;
let registry: TestRegistry;
let serving: ServingHandle;
let clickstream: string;

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
  clickstream = config.kafka.topics.clickstream;
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

  it('logs the shadow policy with every impression and never shows its slate', async () => {
    const base = `http://127.0.0.1:${serving.gateway.port}`;
    const putExperiments = (body: object) =>
      fetch(`${base}/admin/experiments`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const client = await connectClient(`ws://127.0.0.1:${serving.gateway.port}/ws`);
    client.send({ type: 'hello', userId: 'u-shadow' });
    await client.next((m) => m.type === 'welcome');
    expect((await putExperiments({ layers: [] })).status).toBe(200);
    client.send({ type: 'carousel', requestId: 'unshadowed', slots: 4 });
    await client.next((m) => m.type === 'carousel' && m.requestId === 'unshadowed');

    const experiments = {
      layers: [
        {
          name: 'ranking',
          salt: 'ranking-1',
          experiments: [
            {
              name: 'ts-with-greedy-shadow',
              range: [0, 100],
              variants: [{ name: 'thompson', policy: 'thompson' }],
              shadow: { policy: 'greedy' },
            },
          ],
        },
      ],
    };
    expect((await putExperiments(experiments)).status).toBe(200);
    const carousels: Record<string, unknown>[] = [];
    for (let r = 0; r < 4; r++) {
      client.send({ type: 'carousel', requestId: `shadow-${r}`, slots: 4 });
      carousels.push(await client.next((m) => m.type === 'carousel' && m.requestId === `shadow-${r}`));
    }
    client.close();
    for (const carousel of carousels) {
      expect(carousel).toMatchObject({ policy: 'thompson', experiment: 'ts-with-greedy-shadow' });
      // Nothing of the shadow decision reaches the client: the reply holds the shown slate and nothing else.
      expect(Object.keys(carousel).sort()).toEqual(
        [
          'experiment',
          'items',
          'modelVersion',
          'policy',
          'requestId',
          'serverTimeUs',
          'type',
          'variant',
        ].sort(),
      );
      const items = carousel.items as Record<string, unknown>[];
      expect(items.map((i) => i.slot)).toEqual([0, 1, 2, 3]);
      // Thompson's propensities are computed after the reply; a client that did not ask for them gets none.
      for (const item of items) {
        expect(Object.keys(item).sort()).toEqual(['itemId', 'sample', 'score', 'slot', 'title']);
      }
    }
    await serving.eventLog.flush();

    const { consumed, close } = await tailTopic(broker.brokers, registry.url, clickstream);
    try {
      const impressions = await eventually(() => {
        const found = consumed.flatMap((e) =>
          e.schemaName === 'Carousel' && e.value.requestId.startsWith('shadow-')
            ? carouselImpressions(e.value)
            : [],
        );
        return found.length === 16 ? found : undefined;
      }, 20_000);
      for (const carousel of carousels) {
        const shown = carousel.items as CarouselItemMessage[];
        const logged = impressions.filter((i) => i.requestId === carousel.requestId);
        // Exactly the shown items are logged as impressions; the shadow slate's own items are not.
        expect(logged.map((i) => `${i.slot}:${i.itemId}`).sort()).toEqual(
          shown.map((i) => `${i.slot}:${i.itemId}`).sort(),
        );
        for (const impression of logged) {
          expect(impression.policy).toBe('thompson');
          expect(impression.shadowPolicy).toBe('greedy');
          const p = impression.shadowPropensity ?? null;
          expect(p).not.toBeNull();
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
          // Greedy breaks ties uniformly at random: 1/g inside the item's block of g tied candidates, 0 outside.
          const ties = p === 0 || p === null ? 0 : 1 / p;
          expect(Math.abs(ties - Math.round(ties))).toBeLessThan(1e-9);
          expect(ties).toBeLessThanOrEqual(CATALOGUE.length);
          // Where the greedy shadow ranked this item in this very slot, the probability is positive.
          if (impression.shadowSlot === impression.slot) expect(p).toBeGreaterThan(0);
          if (impression.shadowSlot !== null) {
            expect(impression.shadowSlot).toBeGreaterThanOrEqual(0);
            expect(impression.shadowSlot).toBeLessThan(4);
          }
        }
      }
      // The carousel dealt without a shadow policy logged nulls.
      const unshadowed = await eventually(() => {
        const found = consumed.flatMap((e) =>
          e.schemaName === 'Carousel' && e.value.requestId === 'unshadowed'
            ? carouselImpressions(e.value)
            : [],
        );
        return found.length === 4 ? found : undefined;
      }, 20_000);
      for (const impression of unshadowed) {
        expect(impression).toMatchObject({ shadowPolicy: null, shadowSlot: null, shadowPropensity: null });
      }
    } finally {
      await close();
    }
  });
});
