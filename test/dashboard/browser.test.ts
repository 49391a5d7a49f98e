/**
 * The operator's dashboard in headless Chromium while `croupier start` plays demo traffic: the figures move,
 * the charts get points, an experiment configured through the admin endpoint appears with its variants, and
 * the page logs no console error; freshness has figures; the jobs panel says plainly that no training or shadow
 * run is recorded, then shows the runs `croupier jobs run` would record (the real jobs, in child processes, on the
 * real run ledger). With CROUPIER_DASHBOARD_SCREENSHOT=<file.png> it also writes the README's screenshot (and runs
 * the archive, so the jobs have data to train and evaluate on).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoTrafficIfWanted } from '../../simulator/demo-traffic.ts';
import { createRedisClient } from '../../src/app/redis-client.ts';
import { type CroupierHandle, startCroupier } from '../../src/app/start.ts';
import { jobRunnerFor } from '../../src/cli/scheduled-jobs.ts';
import { type Config, parseConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/logger.ts';

const ADMIN_TOKEN = 'dashboard-test-admin';
const SCREENSHOT = process.env.CROUPIER_DASHBOARD_SCREENSHOT;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'];

let croupier: CroupierHandle;
let browser: BrowserContext;
let config: Config;
const temp = mkdtempSync(join(tmpdir(), 'croupier-dashboard-'));

beforeAll(async () => {
  // The jobs write into a copy of the shipped registry and a report directory of their own.
  cpSync(new URL('../../models', import.meta.url), join(temp, 'models'), { recursive: true });
  config = parseConfig({
    gateway: { port: 0, authDisabled: true, adminToken: ADMIN_TOKEN },
    kafka: { partitions: 2 },
    log: { level: 'silent' },
    // For the screenshot, files rotate every 15 s so the jobs have a minute of traffic to work on.
    archive: { enabled: SCREENSHOT !== undefined, uri: join(temp, 'archive'), rotateIntervalMs: 15_000 },
    model: { registryDir: join(temp, 'models') },
    jobs: { shadow: { reportDir: join(temp, 'shadow'), replicates: 50 } },
    demo: { traffic: 'on', rate: 40, clients: 2 },
  });
  croupier = await startCroupier({ config, logger: silentLogger(), onStarted: startDemoTrafficIfWanted });
  browser = await chromium.launchPersistentContext(join(temp, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 1000 },
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await croupier?.close();
  rmSync(temp, { recursive: true, force: true });
});

const numberIn = (text: string | null) => Number(text ?? 'NaN');

describe('the dashboard page in headless Chromium', () => {
  it('moves with demo traffic, shows a configured experiment, and logs no console error', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${croupier.gatewayUrl}dashboard`);
    expect(await page.title()).toContain('dashboard');

    // Carousels per second above zero, and the chart has points drawn by uPlot.
    await page.waitForFunction(`Number(document.getElementById('fig-carousels').dataset.value) > 0`, null, {
      timeout: 30_000,
    });
    expect(numberIn(await page.getAttribute('#fig-carousels', 'data-value'))).toBeGreaterThan(0);
    await page.waitForFunction(
      `Number(document.getElementById('chart-carousels').dataset.points) >= 3`,
      null,
      {
        timeout: 20_000,
      },
    );
    expect(await page.locator('#chart-carousels canvas').count()).toBe(1);
    expect(await page.textContent('#fig-p99')).toMatch(/(µs|ms)$/);

    // Freshness: the demo's clicks reach the cache, each timed from its Kafka timestamp, and /metrics has the histogram.
    await page.waitForFunction(`document.getElementById('fig-freshness-p99').dataset.value > 0`, null, {
      timeout: 30_000,
    });
    const p50 = numberIn(await page.getAttribute('#fig-freshness-p50', 'data-value'));
    const p99 = numberIn(await page.getAttribute('#fig-freshness-p99', 'data-value'));
    expect(Number.isFinite(p50) && Number.isFinite(p99)).toBe(true);
    expect(p99).toBeGreaterThanOrEqual(p50);
    expect(await page.textContent('#fig-freshness-p99')).toMatch(/(µs|ms| s)$/);
    const scrape = await (await fetch(`${croupier.gatewayUrl}metrics`)).text();
    expect(Number(/^croupier_click_freshness_seconds_count (\S+)$/m.exec(scrape)?.[1])).toBeGreaterThan(0);

    // An experiment configured through the admin endpoint shows up with both variants from live counts.
    const experiments = {
      layers: [
        {
          name: 'ranking',
          salt: 'ranking-dash',
          experiments: [
            {
              name: 'ts-vs-greedy',
              range: [0, 100],
              variants: [
                { name: 'control', weight: 1 },
                { name: 'greedy', weight: 1, policy: 'greedy' },
              ],
              shadow: { policy: 'greedy' },
            },
          ],
        },
      ],
    };
    const put = await fetch(`${croupier.gatewayUrl}admin/experiments`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(experiments),
    });
    expect(put.status).toBe(200);
    const table = page.locator('table.experiment[data-experiment="ts-vs-greedy"]');
    await table.locator('tr[data-variant="greedy"]').waitFor({ timeout: 30_000 });
    await table.locator('tr[data-variant="control"]').waitFor({ timeout: 30_000 });
    expect(await page.textContent('#experiment-list')).toContain('Verdict:');
    // The shadow policy's slate is compared with the served one.
    await page.waitForFunction(`document.getElementById('shadow').textContent.includes('greedy:')`, null, {
      timeout: 20_000,
    });

    // The posteriors panel lists items shown.
    expect(await page.locator('#segments table.posteriors tbody tr th').count()).toBeGreaterThan(0);

    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it(
    'says plainly that no training or shadow run is recorded, then shows the runs the jobs record',
    async () => {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`${croupier.gatewayUrl}dashboard`);
      await page.locator('#job-training[data-none="train"]').waitFor({ timeout: 20_000 });
      expect(await page.textContent('#job-training')).toContain('No training run in the run ledger yet');
      expect(await page.textContent('#job-training')).toContain('Active model');
      expect(await page.textContent('#job-shadow')).toContain('No shadow test in the run ledger yet');

      // The scheduled jobs' own runner, as `croupier jobs run train` and `croupier jobs run shadow` use it.
      const redis = createRedisClient(croupier.endpoints);
      const runner = jobRunnerFor(config, redis, silentLogger());
      try {
        if (SCREENSHOT !== undefined) await page.waitForTimeout(75_000); // archive files to learn from
        const end = Date.now();
        const interval = { start: end - 600_000, end };
        const train = await runner.runInterval('train', interval);
        const shadow = await runner.runInterval('shadow', interval);
        await page.locator(`#job-training[data-status="${train.status}"]`).waitFor({ timeout: 20_000 });
        await page.locator(`#job-shadow[data-status="${shadow.status}"]`).waitFor({ timeout: 20_000 });
        const training = await page.textContent('#job-training');
        expect(training).toContain(`${train.status} · `);
        if (train.result?.skipped !== undefined) expect(training).toContain('Skipped');
        if (typeof train.result?.version === 'string') {
          expect(training).toContain(train.result.version);
          expect(training).toContain('Gate:');
        }
        const shadowText = await page.textContent('#job-shadow');
        expect(shadowText).toContain(`${shadow.status} · `);
        if (shadow.result?.skipped !== undefined) expect(shadowText).toContain('Skipped');
        if (Array.isArray(shadow.result?.candidates))
          expect(await page.locator('#job-shadow tr[data-candidate]').count()).toBeGreaterThan(0);
        if (SCREENSHOT !== undefined) {
          // A frame with traffic flowing: the jobs' child processes may have starved the demo's clients a while.
          await page.waitForFunction(`document.getElementById('fig-carousels').dataset.value > 10`, null, {
            timeout: 60_000,
          });
          await page.screenshot({ path: SCREENSHOT, fullPage: true });
        }
      } finally {
        await runner.stop();
        redis.disconnect();
      }
      expect(problems).toEqual([]);
      await page.close();
    },
    SCREENSHOT === undefined ? 240_000 : 480_000,
  );

  it('fits a narrow window without a horizontal scroll bar', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 380, height: 800 });
    await page.goto(`${croupier.gatewayUrl}dashboard`);
    await page.waitForFunction(`Number(document.getElementById('chart-carousels').dataset.points) >= 1`);
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.close();
  }, 60_000);
});
