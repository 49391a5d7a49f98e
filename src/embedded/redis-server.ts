/**
 * Runs a `redis-server` child process on a free loopback port: the embedded default of `croupier start`
 * and the fixture of every integration test. Nothing is persisted unless append-only persistence is asked for
 * (in the given directory, or a temporary one removed on stop).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CroupierError } from '../errors/index.ts';
import { freePort } from './free-port.ts';

export interface RedisServerOptions {
  /** Binary to run (default `redis-server` on PATH). */
  binary?: string;
  host?: string;
  /** Port to bind; default a free one. Reusing the port of a stopped server restarts "the same" Redis. */
  port?: number;
  /** Start a Redis Cluster node (`--cluster-enabled yes`). */
  cluster?: boolean;
  /** Working directory (RDB, AOF, nodes.conf). Default: a fresh temporary directory removed on stop. */
  dir?: string;
  /** Append-only file persistence (`--appendonly yes`). */
  appendOnly?: boolean;
  /** When the AOF is fsync'ed (default `always`): `everysec` loses at most a second of writes to a crash. */
  appendFsync?: 'always' | 'everysec';
  /** Extra `--key value` arguments. */
  extraArgs?: string[];
  startTimeoutMs?: number;
}

export interface RedisServerHandle {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly pid: number;
  /** A cluster node's bus port (`--cluster-port`), chosen free like the port; undefined off a cluster. */
  readonly clusterBusPort?: number;
  /** Resolves when the process has exited, whatever stopped it. */
  readonly exited: Promise<void>;
  /** Graceful stop (SIGTERM, then SIGKILL after a grace period). */
  close(): Promise<void>;
  /** Abrupt stop (SIGKILL), for crash tests. The directory is kept. */
  kill(): Promise<void>;
}

/** Resolves once `host:port` answers PING with PONG. */
export async function waitForRedis(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    try {
      await pingOnce(host, port);
      return;
    } catch (error) {
      lastError = (error as Error).message;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new CroupierError(
    'CROUPIER_ERR_REDIS_START',
    `redis-server on ${host}:${port} did not answer PING within ${timeoutMs} ms (${lastError})`,
    { host, port },
  );
}

function pingOnce(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('PING timed out'));
    }, 500);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      if (buffer.includes('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        if (buffer.startsWith('+PONG')) resolve();
        else reject(new Error(`unexpected reply ${JSON.stringify(buffer.trim())}`));
      }
    });
    socket.write('PING\r\n');
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * util-linux's `setpriv` (Essential in Debian) sets the server's parent-death signal: when the process that
 * started it dies, even by SIGKILL, the server gets SIGTERM (and, with append-only persistence, writes its file
 * and exits) instead of living on as an orphan that holds its port and memory, and, on a data directory, would
 * write the same append-only file as the server the next start runs there. The signal follows the thread that
 * spawned the server: croupier starts it from the process's main thread.
 */
const SETPRIV = '/usr/bin/setpriv';
const PARENT_DEATH_SIGNAL = process.platform === 'linux' && existsSync(SETPRIV);
/** setpriv's exit status when it cannot run the command (126: not executable, 127: not found). */
const EXEC_FAILED = new Set([126, 127]);

function cannotRun(binary: string, reason: string): CroupierError {
  return new CroupierError(
    'CROUPIER_ERR_REDIS_START',
    `cannot run ${binary}: ${reason}. Install Redis (Debian: apt-get install redis-server) or set REDIS_URL to an existing server.`,
    { binary },
  );
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'croupier-redis-'));
  const args = ['--port', String(port), '--bind', host, '--dir', dir, '--save', '', '--protected-mode', 'no'];
  args.push('--appendonly', options.appendOnly ? 'yes' : 'no');
  if (options.appendOnly) args.push('--appendfsync', options.appendFsync ?? 'always');
  // A cluster node's bus listens on port + 10000 unless told otherwise, and that port may be taken: it gets a free
  // port of its own.
  const clusterBusPort = options.cluster ? await freePort(host) : undefined;
  if (clusterBusPort !== undefined) {
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`);
    args.push('--cluster-port', String(clusterBusPort));
  }
  args.push(...(options.extraArgs ?? []));
  const binary = options.binary ?? 'redis-server';

  const child = PARENT_DEATH_SIGNAL
    ? spawn(SETPRIV, ['--pdeathsig', 'TERM', '--', binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let signalReady: () => void = () => undefined;
  // The line redis-server prints once it listens: proves the answering server is this child, not another.
  const ready = new Promise<void>((resolve) => {
    signalReady = resolve;
  });
  const collect = (chunk: Buffer) => {
    if (output.length < 65536) output += chunk.toString();
    if (output.includes('Ready to accept connections')) signalReady();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(cannotRun(binary, error.message)));
    child.once('exit', (code, signal) => {
      const said = output.trim().split('\n').slice(-3).join(' | ');
      reject(
        PARENT_DEATH_SIGNAL && code !== null && EXEC_FAILED.has(code)
          ? cannotRun(binary, said)
          : new CroupierError(
              'CROUPIER_ERR_REDIS_START',
              `redis-server exited at start-up (code ${code}, signal ${signal}): ${said}`,
              { port },
            ),
      );
    });
  });
  spawnError.catch(() => undefined);
  try {
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    const timeout = new Promise<never>((_, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new CroupierError(
              'CROUPIER_ERR_REDIS_START',
              `redis-server on ${host}:${port} not ready in ${timeoutMs} ms`,
              {
                port,
              },
            ),
          ),
        timeoutMs,
      );
      ready.then(() => clearTimeout(timer));
      spawnError.catch(() => clearTimeout(timer));
    });
    await Promise.race([ready, spawnError, timeout]);
    await Promise.race([waitForRedis(host, port, timeoutMs), spawnError]);
  } catch (error) {
    child.kill('SIGKILL');
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  child.stdout?.removeListener('data', collect);
  child.stderr?.removeListener('data', collect);
  child.stdout?.resume();
  child.stderr?.resume();

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const cleanup = () => {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    dir,
    pid: child.pid ?? -1,
    ...(clusterBusPort !== undefined ? { clusterBusPort } : {}),
    exited,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await waitForExit(child, 5000))) {
          child.kill('SIGKILL');
          await waitForExit(child, 5000);
        }
      }
      cleanup();
    },
    async kill() {
      child.kill('SIGKILL');
      await waitForExit(child, 5000);
    },
  };
}
