import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer } from 'kafkajs';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedEvent } from '../../src/kafka/index.ts';
import { eventually, PARTITIONS, startWorld, TOPICS, type World } from './support.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let world: World;
let browser: BrowserContext;
let profile: string;
let consumer: Consumer;
const consumed: DecodedEvent[] = [];

beforeAll(async () => {
  // Pushes only when an item leaves the pool, so the cards stay put while the test clicks one.
  world = await startWorld({ pushMinPosteriorShift: 1 }, { topology: true });
  consumer = world.kafka.consumer({ groupId: `browser-test-${Date.now()}`, sessionTimeout: 6000 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.clickstream, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.value !== null) consumed.push(await world.codec.decode(message.value));
    },
  });
  profile = mkdtempSync(join(tmpdir(), 'croupier-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
});

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await consumer?.disconnect();
  await world?.close();
});

describe('the carousel page in headless Chromium', () => {
  it('shows a user their carousel, sends a click over the WebSocket, and the click reaches Kafka and Redis', async () => {
    const page = await browser.newPage();
    await page.goto(`${world.httpUrl}/`);
    await page.fill('#user', 'zoe');
    await page.selectOption('#device', 'mobile');
    await page.fill('#slots', '5');
    await page.click('#deal');
    const cards = page.locator('#carousel .card');
    await cards.first().waitFor();
    expect(await cards.count()).toBe(5);
    expect(await page.textContent('#status')).toContain('connected as zoe');
    const first = cards.first();
    const itemId = await first.getAttribute('data-item-id');
    const requestId = await first.getAttribute('data-request-id');
    expect(itemId).toMatch(/^item-\d+$/);
    expect(await first.textContent()).toContain('propensity');
    await first.click();
    await page.waitForSelector(`body[data-last-ack="${itemId}"]`);

    const click = await eventually(
      () => consumed.find((e) => e.schemaName === 'Click' && e.value.userId === 'zoe'),
      20_000,
    );
    expect(click.value).toMatchObject({ itemId, requestId, slot: 0 });

    // The topology folds the click into the user's partition; the cache sees it through the change feed.
    const clicksInRedis = await eventually(async () => {
      for (let p = 0; p < PARTITIONS.clickstream; p++) {
        const clk = await world.redis.client.hget(
          `${world.prefix}{${TOPICS.clickstream}:${p}}:user:zoe`,
          'clk',
        );
        if (clk !== null && Number(clk) >= 1) return Number(clk);
      }
      return undefined;
    }, 20_000);
    expect(clicksInRedis).toBe(1);
    const cached = await eventually(() => {
      const user = world.cache.user('zoe');
      return user !== undefined && user.clicks >= 1 ? user : undefined;
    });
    expect(cached.recent).toEqual([itemId]);
    await page.close();
  });
});
