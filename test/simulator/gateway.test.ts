import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadTestResult } from '../../load-tests/loadtest.ts';
import { type LocalStack, startLocalStack } from '../../simulator/client/local-stack.ts';
import { readRecording } from '../../simulator/replay/recording.ts';
import type { ReplayResult } from '../../simulator/replay/replay.ts';
import type { SimulationReport } from '../../simulator/report/series.ts';
import { silentLogger } from '../../src/log/logger.ts';

const run = promisify(execFile);
const croupier = (...args: string[]) =>
  run(process.execPath, ['bin/croupier.js', ...args, '--set', 'log.level=warn'], { timeout: 100_000 });

describe('croupier simulate, replay and loadtest against a real gateway', () => {
  let stack: LocalStack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'croupier-sim-'));
    stack = await startLocalStack(
      {
        gateway: { port: 0 },
        kafka: { partitions: 2 },
        stream: { maxBatchMs: 10, commitIntervalMs: 200, sessionTimeoutMs: 3000 },
      },
      silentLogger(),
    );
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the catalog as CDC events, plays sessions over WebSockets and reports CTR and regret', async () => {
    const { stdout } = await croupier(
      'simulate',
      'steady-state',
      '--url',
      stack.wsUrl,
      '--brokers',
      stack.brokers.join(','),
      '--registry',
      stack.registryUrl,
      '--duration',
      '4',
      '--rate',
      '40',
      '--clients',
      '4',
      '--record',
      join(dir, 'traffic.jsonl'),
      '--report',
      dir,
    );
    expect(stdout).toContain('CTR');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as SimulationReport;
    expect(report.mode).toBe('gateway');
    const thompson = report.series.find((s) => s.label.startsWith('thompson'));
    expect(thompson).toBeDefined();
    const impressions = thompson!.buckets.reduce((sum, b) => sum + b.impressions, 0);
    const clicks = thompson!.buckets.reduce((sum, b) => sum + b.clicks, 0);
    expect(impressions).toBeGreaterThan(100);
    expect(clicks).toBeGreaterThan(0);
    expect(report.notes?.['CDC records published']).toBeGreaterThanOrEqual(2100);
    expect(readFileSync(join(dir, 'report.svg'), 'utf8')).toContain('<svg');
    const kinds = new Set(readRecording(join(dir, 'traffic.jsonl')).map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['feedback', 'meta', 'request', 'response']);
  }, 120_000);

  it('replays the recording: every request answered, match rate and an off-policy estimate reported', async () => {
    const out = join(dir, 'replay.json');
    const { stdout } = await croupier(
      'replay',
      join(dir, 'traffic.jsonl'),
      '--url',
      stack.wsUrl,
      '--speedup',
      '4',
      '--out',
      out,
    );
    expect(stdout).toContain('items shown again');
    const result = JSON.parse(readFileSync(out, 'utf8')) as ReplayResult;
    expect(result.requests).toBeGreaterThan(50);
    expect(JSON.stringify(result.errorCodes)).toBe('{}');
    expect(result.replied).toBe(result.requests);
    expect(result.itemMatchRate).toBeGreaterThan(0);
    expect(result.itemMatchRate).toBeLessThanOrEqual(1);
    expect(result.ips?.n).toBeGreaterThan(0);
  });

  it('load-tests the gateway open loop: every request answered without errors, and the users click', async () => {
    const out = join(dir, 'load.json');
    const metricsUrl = stack.wsUrl.replace(/^ws:/, 'http:').replace(/\/ws$/, '/metrics');
    const counter = async (name: string) => {
      const text = await (await fetch(metricsUrl)).text();
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    };
    const acceptedBefore = await counter('croupier_feedback_total');
    const uncountedBefore = await counter('croupier_uncounted_feedback_total');
    await croupier(
      'loadtest',
      '--url',
      stack.wsUrl,
      '--rates',
      '200',
      '--step',
      '2',
      '--warmup',
      '1',
      '--connections',
      '4',
      '--no-calibrate',
      '--clicks',
      '7',
      '--out',
      out,
    );
    const result = JSON.parse(readFileSync(out, 'utf8')) as LoadTestResult;
    expect(result.steps[0].sent).toBe(400);
    expect(result.steps[0].received).toBe(400);
    expect(result.steps[0].errors).toBe(0);
    expect(result.steps[0].latency.p50).toBeGreaterThan(0);
    expect(result.options.clicks).toEqual({ seed: 7 });
    // Each carousel's items are clicked by appeal and slot: about a third of a click per carousel of 10.
    const clicks = result.steps[0].feedback ?? 0;
    expect(clicks).toBeGreaterThan(40);
    // Every click was accepted as feedback on an item its carousel showed (warm-up clicks too, so at least).
    let accepted = 0;
    for (let waited = 0; waited < 5000 && accepted < clicks; waited += 100) {
      accepted = (await counter('croupier_feedback_total')) - acceptedBefore;
      if (accepted < clicks) await new Promise((r) => setTimeout(r, 100));
    }
    expect(accepted).toBeGreaterThanOrEqual(clicks);
    expect(await counter('croupier_uncounted_feedback_total')).toBe(uncountedBefore);
  });
});
