/**
 * The processes a reliability run kills and restarts, each on a fixed port and data directory so that a restart
 * is "the same" service, as a supervisor (systemd, Kubernetes) would restart it: a `redis-server` with its AOF, the
 * broker (`croupier broker --data-dir`), and croupier itself (croupier-process.ts: gateway and topology thread,
 * pointed at those). Each can be killed with SIGKILL; `rss()` reads a process's resident memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Endpoints } from '../../src/app/embedded.ts';
import { type RedisServerHandle, startRedisServer } from '../../src/embedded/redis-server.ts';

const CLI = fileURLToPath(new URL('../../bin/croupier.js', import.meta.url));
const CROUPIER_PROCESS = fileURLToPath(new URL('./croupier-process.ts', import.meta.url));

/** A service that can be killed and started again on the same port and data. */
export interface Restartable {
  readonly name: string;
  /** The running process's pid (-1 while down). */
  pid(): number;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again (after a kill). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Resident memory of a process in bytes (0 when it is gone). */
export function rss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** `redis-server` with append-only persistence (fsync every second) in `dir`, on `port`. */
export async function startRedisProcess(port: number, dir: string): Promise<Restartable & { url: string }> {
  const launch = () => startRedisServer({ port, dir, appendOnly: true, appendFsync: 'everysec' });
  let server: RedisServerHandle | null = await launch();
  return {
    name: 'redis-server',
    url: `redis://127.0.0.1:${port}`,
    pid: () => server?.pid ?? -1,
    async kill() {
      await server?.kill();
      server = null;
    },
    async restart() {
      server = await launch();
    },
    async close() {
      await server?.close();
      server = null;
    },
  };
}

/** Spawns a node child and resolves once a line of its output matches `ready`. */
function spawnUntil(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  logFile?: string,
  timeoutMs = 120_000,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not start in ${timeoutMs} ms: ${out.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-65536);
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout?.removeListener('data', onData);
        child.stderr?.removeListener('data', onData);
        if (logFile === undefined) {
          child.stdout?.resume();
          child.stderr?.resume();
        } else {
          // A log folder that does not exist yet is made, rather than failing the run with the child left running.
          mkdirSync(dirname(logFile), { recursive: true });
          const file = createWriteStream(logFile, { flags: 'a' });
          file.write(out);
          child.stdout?.pipe(file, { end: false });
          child.stderr?.pipe(file, { end: false });
        }
        resolve({ child, match });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`${args.join(' ')} exited (${code ?? signal}) before it was ready: ${out.slice(-2000)}`),
      );
    });
  });
}

async function kill9(child: ChildProcess | null): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

async function stop(child: ChildProcess | null): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** The broker as its own process, with a data directory. */
export async function startBrokerProcess(
  port: number,
  dataDir: string,
  partitions: number,
): Promise<Restartable & { address: string }> {
  const launch = async () =>
    (
      await spawnUntil(
        [
          CLI,
          'broker',
          '--port',
          String(port),
          '--data-dir',
          dataDir,
          '--partitions',
          String(partitions),
          '--set',
          'log.level=warn',
        ],
        {},
        /broker: (\S+)/,
      )
    ).child;
  let child: ChildProcess | null = await launch();
  return {
    name: 'broker',
    address: `127.0.0.1:${port}`,
    pid: () => child?.pid ?? -1,
    async kill() {
      await kill9(child);
      child = null;
    },
    async restart() {
      child = await launch();
    },
    async close() {
      await stop(child);
      child = null;
    },
  };
}

/** croupier (gateway + topology thread) as its own process; `crashTopology()` kills its topology thread. */
export async function startCroupierProcess(
  config: unknown,
  logFile?: string,
): Promise<Restartable & { gatewayUrl(): string; endpoints(): Endpoints; crashTopology(): void }> {
  const launch = () =>
    spawnUntil(
      ['--import', 'tsx', CROUPIER_PROCESS],
      { CROUPIER_CONFIG: JSON.stringify(config) },
      /ready (\S+) (\{.*\})\n/,
      logFile,
    );
  let running: { child: ChildProcess; match: RegExpExecArray } | null = await launch();
  let url = running.match[1];
  let endpoints = JSON.parse(running.match[2]) as Endpoints;
  return {
    name: 'croupier',
    gatewayUrl: () => url,
    endpoints: () => endpoints,
    pid: () => running?.child.pid ?? -1,
    crashTopology: () => running?.child.kill('SIGUSR2'),
    async kill() {
      await kill9(running?.child ?? null);
      running = null;
    },
    async restart() {
      running = await launch();
      url = running.match[1];
      endpoints = JSON.parse(running.match[2]) as Endpoints;
    },
    async close() {
      await stop(running?.child ?? null);
      running = null;
    },
  };
}
