/**
 * A bare uWebSockets.js server that answers each message with the message itself: the calibration target
 * of the load generator (what the generator achieves against it is its own ceiling on this machine), and,
 * with an injected delay and a stall, the test server that checks the generator's percentiles.
 *
 * `spawnEchoServer` runs it in a child process, so that its event loop never shares a thread with the
 * generator's.
 */

import uWS from 'uWebSockets.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CroupierError } from '../src/errors/index.ts';

export interface EchoServerOptions {
  host?: string;
  port?: number;
  /** Answer each message after this many milliseconds (a timer, the loop stays free). Default 0. */
  delayMs?: number;
  /** Block the whole event loop for `stallMs` once, `stallAfterMs` after the first message. */
  stallAfterMs?: number;
  stallMs?: number;
}

export interface EchoServerHandle {
  readonly port: number;
  close(): Promise<void>;
}

interface SocketData {
  open: boolean;
}

export function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServerHandle> {
  const delayMs = options.delayMs ?? 0;
  const sockets = new Set<uWS.WebSocket<SocketData>>();
  let firstMessageAt = 0;
  let stalled = options.stallMs === undefined;
  const maybeStall = () => {
    if (stalled) return;
    const now = performance.now();
    if (firstMessageAt === 0) firstMessageAt = now;
    if (now - firstMessageAt < (options.stallAfterMs ?? 0)) return;
    stalled = true;
    const until = now + (options.stallMs ?? 0);
    while (performance.now() < until) {
      // Busy-wait on purpose: the stall holds the event loop as a long GC pause or a blocking call would.
    }
  };
  const app = uWS.App().ws<SocketData>('/*', {
    compression: uWS.DISABLED,
    maxPayloadLength: 1024 * 1024,
    maxBackpressure: 16 * 1024 * 1024,
    idleTimeout: 0,
    open: (ws) => {
      ws.getUserData().open = true;
      sockets.add(ws);
    },
    message: (ws, message, isBinary) => {
      maybeStall();
      if (delayMs <= 0) {
        ws.send(message, isBinary);
        return;
      }
      const copy = message.slice(0);
      setTimeout(() => {
        if (ws.getUserData().open) ws.send(copy, isBinary);
      }, delayMs);
    },
    close: (ws) => {
      ws.getUserData().open = false;
      sockets.delete(ws);
    },
  });
  return new Promise((resolve, reject) => {
    app.listen(options.host ?? '127.0.0.1', options.port ?? 0, (listenSocket) => {
      if (!listenSocket) {
        reject(
          new CroupierError(
            'CROUPIER_ERR_PORT_UNAVAILABLE',
            `echo server cannot listen on port ${options.port}`,
          ),
        );
        return;
      }
      resolve({
        port: uWS.us_socket_local_port(listenSocket),
        close: async () => {
          uWS.us_listen_socket_close(listenSocket);
          for (const ws of sockets) ws.close();
          sockets.clear();
        },
      });
    });
  });
}

/** Starts the echo server in a child process and resolves with its port. */
export function spawnEchoServer(options: EchoServerOptions = {}): Promise<EchoServerHandle> {
  const entry = fileURLToPath(new URL('./echo-server.process.ts', import.meta.url));
  // tsx resolved from here, so the child starts whatever the caller's working directory is.
  const tsx = import.meta.resolve('tsx');
  const child: ChildProcess = spawn(process.execPath, ['--import', tsx, entry, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onExit = (code: number | null) =>
      reject(
        new CroupierError(
          'CROUPIER_ERR_CHILD_PROCESS',
          `echo server exited with code ${code} before listening`,
        ),
      );
    child.once('exit', onExit);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (!out.includes('\n')) return;
      child.off('exit', onExit);
      const { port } = JSON.parse(line) as { port: number };
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
