import { readFileSync } from 'node:fs';
import type { Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CarouselItemMessage } from '../../src/domain/protocol-messages.ts';
import type { DecodedEvent } from '../../src/kafka/index.ts';
import { carouselImpressions } from '../../streams/schemas/carousel-impressions.ts';
import {
  CATALOGUE,
  connectClient,
  eventually,
  type ServerMessage,
  startWorld,
  TOPICS,
  type World,
  writeItems,
} from './support.ts';

let world: World;
let consumer: Consumer;
const consumed: DecodedEvent[] = [];

beforeAll(async () => {
  world = await startWorld(
    { maxFrameBytes: 4096, maxMessagesPerSecond: 40, pushMinIntervalMs: 200 },
    { deferPropensities: true },
  );
  consumer = world.kafka.consumer({ groupId: `gateway-test-${Date.now()}`, sessionTimeout: 6000 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.clickstream, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.value !== null) consumed.push(await world.codec.decode(message.value));
    },
  });
});

afterAll(async () => {
  await consumer?.disconnect();
  await world?.close();
});

async function helloAs(userId: string, context: Record<string, string> = {}, propensities = false) {
  const client = await connectClient(world.wsUrl);
  client.send({ type: 'hello', userId, context, ...(propensities ? { propensities } : {}) });
  const welcome = await client.next((m) => m.type === 'welcome');
  expect(welcome.userId).toBe(userId);
  return client;
}

describe('carousel gateway over a real WebSocket', () => {
  it('deals a carousel after hello and acknowledges feedback on it', async () => {
    const client = await helloAs('alice', { device: 'mobile', country: 'DE' });
    client.send({ type: 'carousel', requestId: 'r-1', slots: 4 });
    const carousel = await client.next((m) => m.type === 'carousel');
    const items = carousel.items as CarouselItemMessage[];
    expect(carousel.requestId).toBe('r-1');
    expect(items).toHaveLength(4);
    expect(items.map((i) => i.slot)).toEqual([0, 1, 2, 3]);
    for (const item of items) {
      expect(CATALOGUE.some((c) => c.itemId === item.itemId && c.title === item.title)).toBe(true);
      expect(item.score).toBeGreaterThan(0);
      expect(item.score).toBeLessThan(1);
      // Thompson sampling's propensities are computed after the reply; this client did not ask for them.
      expect(item.propensity).toBeUndefined();
    }
    expect(carousel.policy).toBe('thompson');
    expect(typeof carousel.modelVersion).toBe('string');
    expect(carousel.serverTimeUs).toBeGreaterThan(0);

    client.send({ type: 'feedback', requestId: 'r-1', itemId: items[1].itemId, kind: 'click' });
    expect(await client.next((m) => m.type === 'feedback-ack')).toEqual({
      type: 'feedback-ack',
      requestId: 'r-1',
      itemId: items[1].itemId,
    });

    client.send({ type: 'carousel', requestId: 'r-2', slots: 3, filters: { category: 'comedy' } });
    const comedy = await client.next((m) => m.type === 'carousel');
    for (const item of comedy.items as CarouselItemMessage[]) {
      expect(CATALOGUE.find((c) => c.itemId === item.itemId)?.category).toBe('comedy');
    }
    client.close();
  });

  it('logs the propensities a reply did not wait for, computed once the socket took the carousel', async () => {
    const client = await helloAs('carol', { device: 'mobile' });
    client.send({ type: 'carousel', requestId: 'deferred-1', slots: 5 });
    const carousel = await client.next((m) => m.type === 'carousel');
    const items = carousel.items as CarouselItemMessage[];
    for (const item of items) expect(item.propensity).toBeUndefined();
    const logged = await eventually(() => {
      const found = consumed.find((e) => e.schemaName === 'Carousel' && e.value.requestId === 'deferred-1');
      return found?.schemaName === 'Carousel' ? found.value : undefined;
    }, 20_000);
    const impressions = carouselImpressions(logged);
    expect(impressions.map((i) => i.itemId)).toEqual(items.map((i) => i.itemId));
    for (const impression of impressions) {
      expect(impression.propensity).toBeGreaterThan(0);
      expect(impression.propensity).toBeLessThanOrEqual(1);
    }
    client.close();
  });

  it('logs the dealt carousel as one record and the click to the clickstream topic, Avro through the registry', async () => {
    // Bob asks for the propensities in his carousels: the logged ones must be the same numbers.
    const client = await helloAs('bob', { device: 'desktop' }, true);
    client.send({ type: 'carousel', requestId: 'kafka-1', slots: 3, context: { page: 'home' } });
    const carousel = await client.next((m) => m.type === 'carousel');
    const items = carousel.items as CarouselItemMessage[];
    client.send({ type: 'feedback', requestId: 'kafka-1', itemId: items[2].itemId, kind: 'click' });
    await client.next((m) => m.type === 'feedback-ack');
    client.send({
      type: 'feedback',
      requestId: 'kafka-1',
      itemId: items[2].itemId,
      kind: 'watch',
      watchTimeMs: 1200,
    });
    await client.next((m) => m.type === 'feedback-ack');

    const logged = await eventually(() => {
      const found = consumed.filter((e) => e.schemaName === 'Carousel' && e.value.requestId === 'kafka-1');
      return found.length === 1 && found[0].schemaName === 'Carousel' ? found[0].value : undefined;
    }, 20_000);
    expect(consumed.some((e) => e.schemaName === 'Impression')).toBe(false);
    expect(logged.items).toHaveLength(3);
    // The feature rows the model scored, one per shown item, in the serving model's feature spec.
    const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8'));
    expect(logged.featureSpecHash).toBe(manifest.models[0].featureSpecHash);
    for (const item of logged.items) expect(item.features?.length).toBe(27);
    const spec = JSON.parse(readFileSync('models/feature-spec.json', 'utf8')) as {
      features: { name: string }[];
    };
    // Columns in the spec's order: the one-hot of context.device (columns 21-24) says desktop, as the hello did.
    expect(spec.features[11].name).toBe('context.device');
    for (const item of logged.items) {
      expect(item.features?.slice(21, 25)).toEqual([0, 1, 0, 0]);
    }
    const impressions = carouselImpressions(logged);
    for (const item of items) {
      expect(item.propensity).toBeGreaterThan(0);
      expect(item.propensity).toBeLessThanOrEqual(1);
    }
    for (const impression of impressions) {
      const shown = items.find((i) => i.itemId === impression.itemId);
      expect(shown).toBeDefined();
      expect(impression.userId).toBe('bob');
      expect(impression.slot).toBe(shown?.slot);
      expect(impression.propensity).toBeCloseTo(shown?.propensity ?? -1, 6);
      expect(impression.score).toBeCloseTo(shown?.score ?? -1, 6);
      expect(impression.policy).toBe('thompson');
      expect(impression.modelVersion).toBe(carousel.modelVersion);
      expect(impression.segment).toMatch(/^desktop\|/);
      expect(impression.context).toEqual({ device: 'desktop', country: null, page: 'home' });
    }
    const click = await eventually(() =>
      consumed.find((e) => e.schemaName === 'Click' && e.value.requestId === 'kafka-1'),
    );
    if (click.schemaName !== 'Click') throw new Error('unreachable');
    expect(click.value).toMatchObject({ userId: 'bob', itemId: items[2].itemId, slot: 2 });
    expect(click.value.segment).toBe(logged.segment);
    const watch = await eventually(() =>
      consumed.find((e) => e.schemaName === 'Watch' && e.value.requestId === 'kafka-1'),
    );
    expect(watch.value).toMatchObject({ userId: 'bob', watchTimeMs: 1200 });
    client.close();
  });

  it('answers bad messages with an error and keeps the connection open', async () => {
    const client = await connectClient(world.wsUrl);
    client.send({ type: 'carousel', requestId: 'early', slots: 2 });
    expect(await client.next()).toMatchObject({
      type: 'error',
      code: 'CROUPIER_ERR_GATEWAY_HELLO_REQUIRED',
      requestId: 'early',
    });
    client.sendRaw('{not json');
    expect(await client.next()).toMatchObject({ type: 'error', code: 'CROUPIER_ERR_GATEWAY_BAD_JSON' });
    client.send({ type: 'teleport' });
    expect(await client.next()).toMatchObject({ type: 'error', code: 'CROUPIER_ERR_GATEWAY_BAD_MESSAGE' });
    client.send({ type: 'hello', userId: 'carol' });
    await client.next((m) => m.type === 'welcome');
    client.send({ type: 'carousel', requestId: 'bad-slots', slots: 0 });
    const badSlots = await client.next();
    expect(badSlots).toMatchObject({
      type: 'error',
      code: 'CROUPIER_ERR_GATEWAY_BAD_MESSAGE',
      requestId: 'bad-slots',
    });
    expect(String(badSlots.message)).toContain('slots');
    client.send({ type: 'feedback', requestId: 'x', itemId: 'item-1', kind: 'conversion' });
    expect(String((await client.next()).message)).toContain('value');
    client.send({ type: 'hello', userId: 'has|bar' });
    expect(await client.next()).toMatchObject({ type: 'error', code: 'CROUPIER_ERR_GATEWAY_BAD_MESSAGE' });
    client.send({ type: 'ping' });
    expect(await client.next()).toEqual({ type: 'pong' });
    client.close();
  });

  it('accepts WebSocket clients at / as well as /ws, while / still serves the page', async () => {
    const client = await connectClient(world.wsUrl.replace(/\/ws$/, '/'));
    client.send({ type: 'ping' });
    expect(await client.next()).toEqual({ type: 'pong' });
    client.close();
    expect(await (await fetch(`${world.httpUrl}/`)).text()).toContain('<ol id="carousel"');
    expect((await fetch(`${world.httpUrl}/nope`)).status).toBe(404);
  });

  it('closes a connection that sends a frame over gateway.maxFrameBytes, and serves the next one', async () => {
    const client = await helloAs('dave');
    client.send({ type: 'carousel', requestId: 'x'.repeat(100), slots: 1, pad: 'y'.repeat(8000) });
    expect(await client.next()).toMatchObject({
      type: 'error',
      code: 'CROUPIER_ERR_GATEWAY_FRAME_TOO_LARGE',
    });
    const { code } = await client.closed;
    expect(code).toBe(1009);
    const huge = await helloAs('dave');
    huge.sendRaw(Buffer.alloc(200 * 1024, 32));
    expect((await huge.closed).code).toBe(1006);
    const next = await helloAs('dave');
    next.send({ type: 'ping' });
    expect(await next.next()).toEqual({ type: 'pong' });
    next.close();
  });

  it('drops messages over the per-connection rate with an error, then serves again', async () => {
    const client = await helloAs('erin');
    for (let i = 0; i < 120; i++) client.send({ type: 'ping' });
    const limited = await client.next((m) => m.type === 'error');
    expect(limited.code).toBe('CROUPIER_ERR_GATEWAY_RATE_LIMITED');
    await new Promise((r) => setTimeout(r, 1200));
    const drainQueued = async () => {
      for (;;) {
        const m = await client.next(() => true, 300).catch(() => null);
        if (m === null) return;
      }
    };
    await drainQueued();
    client.send({ type: 'ping' });
    expect(await client.next()).toEqual({ type: 'pong' });
    client.close();
  });

  it('takes an item that became unavailable out of every carousel, pushing subscribers a new one', async () => {
    const client = await helloAs('frank');
    client.send({ type: 'subscribe', requestId: 'sub-1', slots: 6, filters: { category: 'drama' } });
    const first = await client.next((m) => m.type === 'carousel');
    const shown = (first.items as CarouselItemMessage[]).map((i) => i.itemId);
    expect(shown).toContain('item-4');
    await writeItems(world.redis.client, world.prefix, [
      { itemId: 'item-4', title: 'Title 4', category: 'drama', available: false },
    ]);
    const pushed = await client.next((m: ServerMessage) => m.type === 'carousel' && m.pushed === true);
    expect(pushed.subscription).toBe('sub-1');
    expect((pushed.items as CarouselItemMessage[]).map((i) => i.itemId)).not.toContain('item-4');
    client.send({ type: 'carousel', requestId: 'after', slots: 6, filters: { category: 'drama' } });
    const after = await client.next((m) => m.type === 'carousel' && m.requestId === 'after');
    expect((after.items as CarouselItemMessage[]).map((i) => i.itemId)).not.toContain('item-4');
    client.send({ type: 'unsubscribe' });
    expect(await client.next((m) => m.type === 'unsubscribed')).toEqual({
      type: 'unsubscribed',
      requestId: null,
    });
    client.close();
  });

  it('pushes a re-dealt carousel to a subscriber when the posterior of a shown item moves', async () => {
    const client = await helloAs('gina', { device: 'tv' });
    client.send({ type: 'subscribe', requestId: 'sub-post', slots: 3 });
    const first = await client.next((m) => m.type === 'carousel');
    const itemId = (first.items as CarouselItemMessage[])[2].itemId;
    const tag = `${world.prefix}{${TOPICS.clickstream}:0}`;
    const posterior = { [`${itemId}|*`]: [40, 30], [`${itemId}|tv|unknown`]: [40, 30] };
    await world.redis.client
      .multi()
      .hset(`${tag}:posterior`, `imp|${itemId}|*`, 40, `clk|${itemId}|*`, 30)
      .xadd(`${tag}:feed`, '*', 'o', '1', 'd', JSON.stringify({ posterior, item: {}, user: {} }))
      .exec();
    const pushed = await client.next((m: ServerMessage) => m.type === 'carousel' && m.pushed === true);
    expect(pushed).toMatchObject({ requestId: 'sub-post#1', subscription: 'sub-post' });
    expect(pushed.items as CarouselItemMessage[]).toHaveLength(3);
    client.close();
  });

  it('serves /healthz, /readyz, /metrics and guards the admin endpoints', async () => {
    expect((await fetch(`${world.httpUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${world.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [], warnings: [] });
    const metrics = await (await fetch(`${world.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/croupier_decision_latency_seconds_bucket\{le="\+Inf"\} [1-9]/);
    expect(metrics).toMatch(/croupier_decisions_total [1-9]/);
    // Each step of a decision on the reply's path, counted once per decision.
    const decisions = Number(/croupier_decisions_total (\d+)/.exec(metrics)?.[1]);
    for (const step of ['features', 'scoring', 'sampling']) {
      expect(metrics).toContain(`croupier_decision_step_seconds_count{step="${step}"} ${decisions}`);
      expect(metrics).toMatch(
        new RegExp(`croupier_decision_step_seconds_bucket\\{step="${step}",le="\\+Inf"\\} ${decisions}`),
      );
    }
    expect(metrics).toContain('croupier_decisions_per_second');
    expect(metrics).toContain('croupier_scoring_batch_size_bucket');
    expect(metrics).toContain('croupier_events_shed_total 0');
    expect(metrics).toContain('croupier_cache_sync_age_seconds');
    expect(metrics).toMatch(/croupier_model_info\{version="[^"]+"\} 1/);
    const page = await fetch(`${world.httpUrl}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('carousel');
    expect((await fetch(`${world.httpUrl}/admin/model/reload`, { method: 'POST' })).status).toBe(401);
  });
});
