/**
 * The probe port (`gateway.probePort`) against clients that hold its connections: it holds at most sixteen, and a
 * health check must still be answered while more than that send a header byte now and then (slowloris), reopened as
 * soon as they close.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_PROBE_CONNECTIONS, type ProbeServer, startProbeServer } from '../../src/gateway/probe-server.ts';
import { silentLogger } from '../../src/log/logger.ts';

let server: ProbeServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

let renders = 0;
const startProbes = async () => {
  renders = 0;
  server = await startProbeServer({
    host: '127.0.0.1',
    port: 0,
    readiness: () => ({ ready: true }),
    metricsText: () => `croupier_up 1\ncroupier_renders ${++renders}\n`,
    logger: silentLogger(),
  });
  return server.port;
};

/** Connections that send a request line and then one header byte every `everyMs`, each reopened when it closes. */
function slowloris(port: number, count: number, everyMs: number) {
  const sockets = new Set<net.Socket>();
  let running = true;
  function openOne(): void {
    const socket = net.connect({ host: '127.0.0.1', port }, () =>
      socket.write('GET /healthz HTTP/1.1\r\nX-Slow: '),
    );
    sockets.add(socket);
    socket
      .on('error', () => {})
      .on('close', () => {
        sockets.delete(socket);
        if (running) setTimeout(openOne, 10);
      });
  }
  for (let i = 0; i < count; i++) openOne();
  const drip = setInterval(() => {
    for (const socket of sockets) if (socket.writable) socket.write('a');
  }, everyMs);
  return {
    open: () => sockets.size,
    stop() {
      running = false;
      clearInterval(drip);
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** One request on a new connection, as a load balancer's probe: the raw answer, or what happened instead. */
const raw = (port: number, request: string, waitMs = 5000) =>
  new Promise<{ text: string; closed: boolean }>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, waitMs);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.write(request);
  });

const statusOf = (text: string) => text.split('\r\n')[0];

describe('the probe port under clients that hold its connections', () => {
  it('answers every probe while more connections than it holds send a header byte every second', async () => {
    const port = await startProbes();
    const attack = slowloris(port, MAX_PROBE_CONNECTIONS + 8, 1000);
    try {
      const answers: string[] = [];
      for (let i = 0; i < 8; i++) {
        const { text } = await raw(port, 'GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n');
        answers.push(statusOf(text) || 'no answer');
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(attack.open()).toBeGreaterThan(0);
      expect(answers).toEqual(Array(8).fill('HTTP/1.1 200 OK'));
    } finally {
      attack.stop();
    }
  }, 30_000);

  it('answers a request other than GET or HEAD with 405 and closes its connection without reading the body', async () => {
    const port = await startProbes();
    const { text, closed } = await raw(
      port,
      'POST /healthz HTTP/1.1\r\nHost: probe\r\nContent-Length: 100000000\r\n\r\nabc',
    );
    expect(statusOf(text)).toBe('HTTP/1.1 405 Method Not Allowed');
    expect(text.toLowerCase()).toContain('\r\nconnection: close\r\n');
    expect(closed).toBe(true);
  });

  it('answers only its three paths, whatever a path walks through', async () => {
    const port = await startProbes();
    for (const path of [
      '/healthz/../metrics',
      '/%6detrics',
      '//metrics',
      '/dashboard',
      '/admin/experiments',
    ]) {
      const { text } = await raw(port, `GET ${path} HTTP/1.1\r\nHost: probe\r\n\r\n`);
      expect(statusOf(text), path).toBe('HTTP/1.1 404 Not Found');
      expect(text.toLowerCase(), path).toContain('\r\nconnection: close\r\n');
    }
    const { text } = await raw(port, 'GET /metrics?x=1 HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n');
    expect(text).toContain('croupier_up 1');
  });

  it('renders /metrics once for many requests pipelined on one connection', async () => {
    const port = await startProbes();
    const { text } = await raw(
      port,
      `${'GET /metrics HTTP/1.1\r\nHost: probe\r\n\r\n'.repeat(199)}GET /metrics HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n`,
      30_000,
    );
    const answered = text.split('HTTP/1.1 200 OK').length - 1;
    expect(answered).toBe(200);
    expect(renders).toBeLessThan(answered);
  }, 40_000);
});
