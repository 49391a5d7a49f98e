/**
 * The load generator's own cost per request: the raw WebSocket client (src/ws-client/raw-client.ts) against the
 * `ws` package client, each keeping a window of requests in flight on 8 connections to a bare
 * uWebSockets.js echo server in a child process. Reports replies per second and the generator's CPU time
 * per request (user + system of this process), the figure that decides how far one generator core goes.
 *
 *   npm run bench:loadtest-client -- [seconds=3]
 *
 * Writes bench/results/loadtest-client.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { spawnEchoServer } from '../load-tests/echo-server.ts';
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
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/loadtest-client.json',
    `${JSON.stringify({ connections: CONNECTIONS, window: WINDOW, seconds, rows }, null, 2)}\n`,
  );
} finally {
  await echo.close();
}
