/**
 * What the gateway's metrics cost, against prom-client (what a user would pick): the work done per carousel on
 * the hot path (count the decision, its rate window, observe its server time in the latency histogram) and the
 * rendering of a `/metrics` page of the same size. Runs each measurement `--runs` times (default 3) and prints the
 * median and range; writes bench/results/metrics.json.
 *
 *   npm run bench:metrics
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import client from 'prom-client';
import type { EventLogStats } from '../src/gateway/event-log.ts';
import { GatewayMetrics } from '../src/gateway/metrics.ts';
import { renderMetricsText } from '../src/gateway/metrics-text.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(args.runs);
const OBSERVATIONS = 5_000_000;
const RENDERS = 20_000;
const LATENCY_BUCKETS_S = [
  0.00005, 0.0001, 0.00015, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

/** Server times like the gateway's: mostly 100–400 µs, a tail to tens of ms. */
const samplesUs = Float64Array.from(
  { length: 4096 },
  (_, i) => 100 + ((i * 7919) % 300) + (i % 97 === 0 ? 20_000 : 0),
);

function timeNsPerOp(ops: number, body: () => void): number {
  const start = performance.now();
  body();
  return ((performance.now() - start) * 1e6) / ops;
}

function croupierObserve(): number {
  const metrics = new GatewayMetrics();
  return timeNsPerOp(OBSERVATIONS, () => {
    for (let i = 0; i < OBSERVATIONS; i++) metrics.recordDecision(samplesUs[i & 4095]);
  });
}

function promClientObserve(): number {
  const registry = new client.Registry();
  const decisions = new client.Counter({ name: 'd_total', help: 'd', registers: [registry] });
  const latency = new client.Histogram({
    name: 'l_seconds',
    help: 'l',
    buckets: LATENCY_BUCKETS_S,
    registers: [registry],
  });
  return timeNsPerOp(OBSERVATIONS, () => {
    for (let i = 0; i < OBSERVATIONS; i++) {
      decisions.inc();
      latency.observe(samplesUs[i & 4095] / 1e6);
    }
  });
}

const EVENTS: EventLogStats = { sent: 1, shed: 0, invalid: 0, queued: 0, sendFailures: 0, connected: true };

function croupierRender(): number {
  const metrics = new GatewayMetrics();
  for (let i = 0; i < 10_000; i++) metrics.recordDecision(samplesUs[i & 4095]);
  return timeNsPerOp(RENDERS, () => {
    for (let i = 0; i < RENDERS; i++)
      renderMetricsText({
        metrics,
        events: EVENTS,
        connections: 3,
        subscriptions: 2,
        freshness: undefined,
      });
  });
}

function promClientRender(): Promise<number> {
  const registry = new client.Registry();
  const latency = new client.Histogram({
    name: 'croupier_decision_latency_seconds',
    help: 'l',
    buckets: LATENCY_BUCKETS_S,
    registers: [registry],
  });
  new client.Histogram({
    name: 'croupier_scoring_batch_size',
    help: 'b',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [registry],
  });
  // The gateway's 21 counters and gauges, read when scraped as the hand-written renderer reads them.
  for (let i = 0; i < 21; i++) {
    new client.Gauge({
      name: `croupier_row_${i}`,
      help: 'row',
      registers: [registry],
      collect() {
        this.set(i);
      },
    });
  }
  for (let i = 0; i < 10_000; i++) latency.observe(samplesUs[i & 4095] / 1e6);
  return (async () => {
    const start = performance.now();
    for (let i = 0; i < RENDERS; i++) await registry.metrics();
    return ((performance.now() - start) * 1e6) / RENDERS;
  })();
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1] };
}

const results: Record<string, number[]> = {
  'hot path, croupier (ns/decision)': [],
  'hot path, prom-client (ns/decision)': [],
  '/metrics render, croupier (µs/page)': [],
  '/metrics render, prom-client (µs/page)': [],
};
for (let run = 0; run < RUNS; run++) {
  results['hot path, croupier (ns/decision)'].push(croupierObserve());
  results['hot path, prom-client (ns/decision)'].push(promClientObserve());
  results['/metrics render, croupier (µs/page)'].push(croupierRender() / 1000);
  results['/metrics render, prom-client (µs/page)'].push((await promClientRender()) / 1000);
}
const rows = Object.entries(results).map(([name, values]) => ({ name, ...summary(values) }));
const load = os
  .loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
console.log(`metrics: ${RUNS} runs, load average ${load}`);
console.table(
  rows.map((r) => ({
    measurement: r.name,
    median: r.median.toFixed(1),
    range: `${r.min.toFixed(1)}–${r.max.toFixed(1)}`,
  })),
);
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(
  new URL('./results/metrics.json', import.meta.url),
  `${JSON.stringify({ runs: RUNS, loadAverage: os.loadavg(), rows, at: new Date().toISOString() }, null, 2)}\n`,
);
