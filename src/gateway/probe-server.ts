/**
 * The gateway's probe port (`gateway.probePort`): a plain HTTP listener of its own that answers `/healthz`,
 * `/readyz` and `/metrics` as the gateway's port does, and nothing else. It is there for health checks that must be
 * answered whatever the gateway's port does: that port stops listening while descriptors run short
 * (listen-guard.ts), and every new connection to it is then refused, a load balancer's or kubelet's probe alike,
 * until the connections that took the descriptors close (about 10 s). On the probe port `/healthz` stays 200 and
 * `/readyz` says not ready, naming why, for as long as the gateway does not listen.
 *
 * It is Node's HTTP server (libuv), not uWebSockets.js: it holds at most `MAX_PROBE_CONNECTIONS` connections at once,
 * closes a connection idle for `PROBE_IDLE_MS` or whose request is not complete within it, and an accept that fails
 * for want of descriptors does not spin (libuv keeps a descriptor in reserve for that). A connection over the limit
 * closes the oldest one held, not itself: a probe sends its request as it connects and is answered at once, so
 * connections that send a header byte now and then (slowloris) are the old ones and a real probe still gets its
 * answer; were the newest refused, sixteen such connections would hold the port. A request other than GET or HEAD, or
 * to another path, is answered and its connection closed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';

/** Connections the probe port holds at once: probes are a few a second, and this bounds a flood of it. */
export const MAX_PROBE_CONNECTIONS = 16;
/** A probe connection that sends nothing for this long, or has not sent a whole request after it, is closed. */
export const PROBE_IDLE_MS = 2000;
/**
 * A `/metrics` text rendered within this long is answered again: rendering takes milliseconds of the gateway's event
 * loop, and 1,000 requests pipelined in one 37 KB write took 0.69 s of it, one render each (0.17 s now).
 */
export const PROBE_METRICS_REUSE_MS = 250;
/** How often Node checks the requests' deadlines (its default, 30 s, would let a slow request hold on that long). */
const DEADLINE_CHECK_MS = 250;

export interface ProbeServerOptions {
  host: string;
  /** 0: a port the OS chooses. */
  port: number;
  readiness(): { ready: boolean };
  metricsText(): string;
  logger: Logger;
}

export interface ProbeServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startProbeServer(options: ProbeServerOptions): Promise<ProbeServer> {
  let rendered = { text: '', at: Number.NEGATIVE_INFINITY };
  const metricsText = () => {
    const now = performance.now();
    if (now - rendered.at > PROBE_METRICS_REUSE_MS) rendered = { text: options.metricsText(), at: now };
    return rendered.text;
  };
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // Its body is not read: the connection is closed once answered.
      res.shouldKeepAlive = false;
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const readiness = options.readiness();
      res
        .writeHead(readiness.ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify(readiness));
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metricsText());
    } else {
      res.shouldKeepAlive = false;
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('the probe port answers /healthz, /readyz and /metrics\n');
    }
  };
  const server = createServer(
    {
      requestTimeout: PROBE_IDLE_MS,
      headersTimeout: PROBE_IDLE_MS,
      connectionsCheckingInterval: DEADLINE_CHECK_MS,
    },
    (req, res) => {
      try {
        answer(req, res);
      } catch (error) {
        options.logger.error({ err: error, url: req.url }, 'a probe route failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      }
    },
  );
  // Oldest first (a Set keeps insertion order): over the limit the oldest is closed.
  const held = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    held.add(socket);
    socket.once('close', () => held.delete(socket));
    for (const oldest of held) {
      if (held.size <= MAX_PROBE_CONNECTIONS) break;
      held.delete(oldest);
      oldest.destroy();
    }
  });
  server.keepAliveTimeout = PROBE_IDLE_MS;
  server.setTimeout(PROBE_IDLE_MS);
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new CroupierError(
          'CROUPIER_ERR_GATEWAY_LISTEN',
          `the gateway's probe port could not listen on ${options.host}:${options.port}: ${error.message} (set gateway.probePort / GATEWAY_PROBE_PORT)`,
          { host: options.host, port: options.port },
          { cause: error },
        ),
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port }, 'gateway probe port listening (/healthz, /readyz, /metrics)');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
