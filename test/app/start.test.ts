/**
 * The README's first command: `croupier start` on embedded defaults runs the whole loop. A catalog published
 * as CDC events reaches carousels dealt over a real WebSocket, and a click comes back into Redis.
 */
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type CroupierHandle, startCroupier } from '../../src/app/start.ts';
import { parseConfig } from '../../src/config/index.ts';
import { createEventCodec, createKafka } from '../../src/kafka/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { loadSchemas } from '../../streams/schemas/index.ts';

interface Message {
  type: string;
  [key: string]: unknown;
}

function openClient(url: string) {
  const ws = new WebSocket(url);
  const inbox: Message[] = [];
  const waiters: ((m: Message) => void)[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as Message;
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else inbox.push(message);
  });
  return {
    opened: new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
    send: (message: object) => ws.send(JSON.stringify(message)),
    next: () =>
      new Promise<Message>((resolve) => {
        const queued = inbox.shift();
        if (queued) resolve(queued);
        else waiters.push(resolve);
      }),
    close: () => ws.close(),
  };
}

describe('croupier start', () => {
  let croupier: CroupierHandle;
  const config = parseConfig({
    gateway: { port: 0 },
    kafka: { partitions: 3 },
    // A limit above any disk's size: the redis-server's file system counts as nearly full.
    redis: { embedded: { diskWarnFreeBytes: Number.MAX_SAFE_INTEGER } },
    log: { level: 'silent' },
    demo: { traffic: 'off' },
  });

  beforeAll(async () => {
    croupier = await startCroupier({ config, logger: silentLogger() });
  });
  afterAll(async () => {
    await croupier?.close();
  });

  it('starts every embedded part and serves the page', async () => {
    expect(croupier.endpoints.embedded).toEqual({ broker: true, registry: true, redis: true });
    const page = await fetch(croupier.gatewayUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
  });

  it('deals carousels from the CDC catalog and folds a click into Redis', async () => {
    const kafka = createKafka(config.kafka, croupier.endpoints.brokers);
    const codec = createEventCodec({ registryUrl: croupier.endpoints.registryUrl, schemas: loadSchemas() });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const items = ['alpha', 'bravo', 'charlie', 'delta'];
    const messages = [];
    for (const [i, itemId] of items.entries()) {
      const value = await codec.encode('cdc.items', 'ItemChange', {
        before: null,
        after: {
          itemId,
          title: `Title ${itemId}`,
          category: i % 2 ? 'drama' : 'comedy',
          tags: [],
          available: true,
          createdAt: Date.now(),
        },
        op: 'c',
        ts_ms: Date.now(),
        source: { connector: 'postgresql', db: 'shop', table: 'items', ts_ms: Date.now(), lsn: null },
      });
      messages.push({ key: itemId, value });
    }
    await producer.send({ topic: 'cdc.items', messages });
    await producer.disconnect();

    const client = openClient(croupier.gatewayUrl.replace(/^http/, 'ws').replace(/\/?$/, '/ws'));
    await client.opened;
    client.send({ type: 'hello', userId: 'u1', context: { device: 'mobile' }, propensities: true });
    expect((await client.next()).type).toBe('welcome');

    let carousel: Message | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      client.send({ type: 'carousel', requestId: `r${attempt}`, slots: 3 });
      carousel = await client.next();
      if ((carousel.items as unknown[]).length === 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const shown = carousel!.items as { itemId: string; propensity: number }[];
    expect(shown).toHaveLength(3);
    for (const item of shown) {
      expect(items).toContain(item.itemId);
      expect(item.propensity).toBeGreaterThan(0);
      expect(item.propensity).toBeLessThanOrEqual(1);
    }

    client.send({ type: 'feedback', requestId: carousel!.requestId, itemId: shown[0].itemId, kind: 'click' });
    expect(await client.next()).toMatchObject({ type: 'feedback-ack', itemId: shown[0].itemId });
    client.close();

    // The click travels gateway → Kafka → topology → Redis; read it back from the user's partition.
    const { Redis } = await import('ioredis');
    const redis = new Redis(croupier.endpoints.redisUrl);
    try {
      let clicks = 0;
      for (let attempt = 0; attempt < 100 && clicks < 1; attempt++) {
        const keys = await redis.keys(`${config.redis.keyPrefix}{clickstream:*}:user:u1`);
        clicks = keys.length ? Number(await redis.hget(keys[0], 'clk')) : 0;
        if (clicks < 1) await new Promise((r) => setTimeout(r, 100));
      }
      expect(clicks).toBe(1);
    } finally {
      redis.disconnect();
    }
  });

  // After the test above published a catalog, so that the loop is ready.
  it("warns on /readyz of the embedded redis-server's disk nearly full, ready still, and reports its free bytes", async () => {
    let readiness: { ready: boolean; warnings: string[] } | undefined;
    for (let attempt = 0; attempt < 300 && readiness?.ready !== true; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 100));
      readiness = (await (await fetch(new URL('/readyz', croupier.gatewayUrl))).json()) as typeof readiness;
    }
    expect(readiness?.ready).toBe(true);
    expect(readiness?.warnings.filter((w) => w.includes("embedded redis-server's disk"))).toHaveLength(1);
    const metrics = await (await fetch(new URL('/metrics', croupier.gatewayUrl))).text();
    expect(Number(/^croupier_redis_disk_free_bytes (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
  });
});
