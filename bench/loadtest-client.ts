/**
 * The load generator's own cost per request: the raw WebSocket client (src/ws-client/raw-client.ts) against the
 * `ws` package client, each keeping a window of requests in flight on 8 connections to a bare
 * uWebSockets.js echo server in a child process. Reports replies per second and the generator's CPU time
 * per request (user + system of this process), the figure that decides how far one generator core goes.
 * Then the open loop of `bench:loadtest` (50 connections, one request due every 1/rate s) at 300, 500, 1,000 and
 * 2,000 requests/s against the same server, woken by its ticker thread and, alternating with it, by polling timers
 * (the loop before the ticker): the generator's cores and its send lag at each rate.
 *
 *   npm run bench:loadtest-client -- [seconds=3]
 *
 * Writes bench/results/loadtest-client.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { spawnEchoServer } from '../load-tests/echo-server.ts';
import { carouselSource, closePool, openPool } from '../load-tests/loadtest.ts';
import { runStep } from '../load-tests/open-loop.ts';
import { textTable } from '../src/report/charts.ts';
import { connectRaw } from '../src/ws-client/raw-client.ts';

const seconds = Number(process.argv[2] ?? 3);
const CONNECTIONS = 8;
const WINDOW = 32;

interface Sender {
  send(text: string): void;
  close(): Promise<void>;
}

async function rawSender(url: string, onReply: () => void): Promise<Sender> {
  const ws = await connectRaw({ url, onMessage: onReply });
  return { send: (text) => ws.send(text), close: () => ws.close() };
}

async function wsSender(url: string, onReply: () => void): Promise<Sender> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.on('message', onReply);
  return {
    send: (text) => ws.send(text),
    close: () =>
      new Promise((resolve) => {
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
}

async function measure(name: string, url: string, open: typeof rawSender) {
  let replies = 0;
  let running = true;
  let seq = 0;
  const senders: Sender[] = [];
  const request = () => `{"type":"carousel","requestId":"lt-${seq++}","slots":10}`;
  for (let c = 0; c < CONNECTIONS; c++) {
    const index = c;
    senders.push(
      await open(url, () => {
        replies++;
        if (running) senders[index].send(request());
      }),
    );
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const sender of senders) for (let k = 0; k < WINDOW; k++) sender.send(request());
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  running = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await Promise.all(senders.map((s) => s.close()));
  return {
    client: name,
    repliesPerSecond: Math.round(replies / elapsed),
    cpuUsPerRequest: +((cpu.user + cpu.system) / replies).toFixed(2),
  };
}

/** The open loop at each rate, woken each way in turn: the generator's CPU (all its threads) and send lag. */
async function openLoop(url: string) {
  const pool = await openPool(url, 50, 1000, true);
  const source = carouselSource(10);
  const rows = [];
  try {
    await runStep(pool, source, { rate: 500, durationMs: 1000, timeoutMs: 2000 });
    for (const rate of [300, 500, 1000, 2000]) {
      for (const wake of ['ticker', 'poll'] as const) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const step = await runStep(pool, source, { rate, durationMs: seconds * 1000, timeoutMs: 2000, wake });
        const cpu = process.cpuUsage(cpu0);
        const cores = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
        rows.push({
          rate,
          wake,
          achieved: step.achievedRate,
          generatorCores: +cores.toFixed(3),
          cpuUsPerRequest: Math.round((cpu.user + cpu.system) / step.sent),
          sendLagP99Ms: step.sendLag.p99,
          p99Ms: step.latency.p99,
        });
      }
    }
  } finally {
    await closePool(pool);
  }
  return rows;
}

const echo = await spawnEchoServer({});
const url = `ws://127.0.0.1:${echo.port}/`;
try {
  const rows = [];
  for (const [name, open] of [
    ['raw (net)', rawSender],
    ['ws package', wsSender],
    ['raw (net)', rawSender],
    ['ws package', wsSender],
  ] as const) {
    rows.push(await measure(name, url, open));
  }
  console.log(
    textTable(
      ['client', 'replies/s', 'generator CPU µs/request'],
      rows.map((r) => [r.client, r.repliesPerSecond, r.cpuUsPerRequest]),
    ),
  );
  const open = await openLoop(url);
  console.log(
    textTable(
      [
        'open loop rate/s',
        'woken by',
        'achieved/s',
        'generator cores',
        'CPU µs/request',
        'send lag p99 ms',
        'p99 ms',
      ],
      open.map((r) => [
        r.rate,
        r.wake,
        r.achieved,
        r.generatorCores,
        r.cpuUsPerRequest,
        r.sendLagP99Ms,
        r.p99Ms,
      ]),
    ),
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/loadtest-client.json',
    `${JSON.stringify({ connections: CONNECTIONS, window: WINDOW, seconds, rows, openLoop: open }, null, 2)}\n`,
  );
} finally {
  await echo.close();
}
