/**
 * A job's child process, tied to the run that started it both ways:
 *
 * - `runChild` spawns the command with the parent's pid in `CROUPIER_PARENT_PID` and, when the run's signal
 *   aborts (its lease is lost, or croupier stops), sends the child SIGTERM, then SIGKILL after `killGraceMs`;
 *   it settles only once the child has exited, so nothing the run started outlives the run's record.
 * - `exitWithParent` (called by the CLI of the child) watches, from a worker thread, that the process's parent is
 *   still the one named in `CROUPIER_PARENT_PID`; when it is not (the parent died, even by SIGKILL, and the child
 *   was reparented), the child sends itself SIGTERM, then SIGKILL after the grace. A worker thread, because a
 *   child such as `croupier train` can keep its main thread busy for seconds at a time.
 */
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';

/** The environment variable naming the pid a child must exit with. */
export const PARENT_PID_ENV = 'CROUPIER_PARENT_PID';

export interface ChildResult {
  /** The exit code, or null when a signal ended the child. */
  code: number | null;
  /** The signal that ended the child, or null. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunChildOptions {
  /** Aborting it stops the child: SIGTERM, then SIGKILL after `killGraceMs`. */
  signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL, ms. Default 5,000. */
  killGraceMs?: number;
  /** Most bytes of stdout (and of stderr) kept; the rest is dropped. Default 64 MiB. */
  maxBuffer?: number;
  /** Called with the child's pid once it is spawned. */
  onSpawn?: (pid: number) => void;
}

/**
 * Runs `command args` to its end with `CROUPIER_PARENT_PID` set to this process. Resolves with its exit code and
 * output; when `signal` aborts, rejects with the signal's reason once the child has exited.
 */
export function runChild(
  command: string,
  args: readonly string[],
  options: RunChildOptions = {},
): Promise<ChildResult> {
  const { signal } = options;
  const graceMs = options.killGraceMs ?? 5000;
  const maxBuffer = options.maxBuffer ?? 1 << 26;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const child = spawn(command, args, {
      env: { ...process.env, [PARENT_PID_ENV]: String(process.pid) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (stream: NodeJS.ReadableStream) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        if (bytes >= maxBuffer) return;
        chunks.push(chunk.subarray(0, maxBuffer - bytes));
        bytes += chunk.length;
      });
      return () => Buffer.concat(chunks).toString();
    };
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    };
    signal?.addEventListener('abort', stop, { once: true });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.on('error', (error) => {
      signal?.removeEventListener('abort', stop);
      clearTimeout(killTimer);
      reject(error);
    });
    child.on('close', (code, exitSignal) => {
      signal?.removeEventListener('abort', stop);
      clearTimeout(killTimer);
      if (signal?.aborted) reject(signal.reason);
      else resolve({ code, signal: exitSignal, stdout: stdout(), stderr: stderr() });
    });
  });
}

/** What the watching thread runs (CommonJS, no TypeScript: a worker does not inherit the CLI's loader). */
const WATCH_PARENT = `
const { workerData } = require('node:worker_threads');
const timer = setInterval(() => {
  if (process.ppid === workerData.parent) return;
  clearInterval(timer);
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), workerData.graceMs);
}, workerData.pollMs);
`;

/**
 * When `CROUPIER_PARENT_PID` names a pid, ends this process once its parent is no longer that pid (see the file
 * comment). The variable is removed from the environment, so a process this one spawns watches its own parent
 * only when told to. Does nothing without the variable.
 */
export function exitWithParent(options: { pollMs?: number; graceMs?: number } = {}): void {
  const text = process.env[PARENT_PID_ENV];
  if (text === undefined) return;
  delete process.env[PARENT_PID_ENV];
  const parent = Number(text);
  if (!Number.isInteger(parent) || parent <= 0) return;
  const worker = new Worker(WATCH_PARENT, {
    eval: true,
    workerData: { parent, pollMs: options.pollMs ?? 250, graceMs: options.graceMs ?? 5000 },
  });
  worker.unref();
}
