/**
 * The embedded schema registry on a thread of its own, as `croupier start` runs it beside the gateway. A schema
 * costs the thread that parses it about a second per 5 MB (avsc compiles readers for every record type), and a
 * compatibility check one resolver per version compared: on the gateway's thread, one client registering 5.5 MB
 * schemas in a loop held carousels up to 4 s. Here such a client waits for its own answers only.
 */
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { settleWithin } from '../domain/settle.ts';
import { CroupierError, type ErrorCode } from '../errors/index.ts';
import { type Logger, silentLogger } from '../log/logger.ts';
import { registerWorkerThread } from '../log/thread-cpu.ts';
import { watchSilence } from '../log/thread-watchdog.ts';
import type { SchemaRegistryHandle, SchemaRegistryOptions } from './server.ts';

const ENTRY = new URL('./registry-thread.js', import.meta.url);

/** What the thread is started with. */
export interface RegistryThreadData {
  options: Omit<SchemaRegistryOptions, 'logger'>;
  logLevel: string;
}

/** What the thread says: its log lines, where it listens (or why it could not), and that it closed. */
export type RegistryThreadMessage =
  | { type: 'log'; line: string }
  | { type: 'listening'; url: string; host: string; port: number; tid: number | null }
  | {
      type: 'failed';
      code: ErrorCode | undefined;
      message: string;
      details: Record<string, unknown> | undefined;
    }
  | { type: 'closed' }
  /** Every `THREAD_REPORT_MS`: the thread is alive (its watchdog's input). */
  | { type: 'beat' };

export interface RegistryThreadOptions extends SchemaRegistryOptions {
  /** Ends a thread that has sent nothing this long (stuck in a loop), ms; 0: no watchdog. */
  watchdogMs?: number;
  /** The thread stopped after it listened, without being closed (a crash, or the watchdog ended it). */
  onExit?: (code: number) => void;
}

/** A started registry thread: the registry's handle, and `hang()` for fault tests. */
export interface SchemaRegistryThreadHandle extends SchemaRegistryHandle {
  /** Blocks the thread's event loop for good, as a loop that never ends would: for fault tests. */
  hang(): void;
}

/** Longest `close()` waits for the thread to close the registry before it terminates it. */
const CLOSE_WAIT_MS = 10_000;

/** `startSchemaRegistry` on a thread of its own; resolves once it listens, with the same handle. */
export function startSchemaRegistryThread(
  options: RegistryThreadOptions = {},
): Promise<SchemaRegistryThreadHandle> {
  const { logger: given, watchdogMs = 0, onExit, ...rest } = options;
  const logger = given ?? silentLogger();
  const data: RegistryThreadData = { options: rest, logLevel: logger.level };
  const worker = new Worker(ENTRY, { workerData: data, name: 'schema-registry' });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let closing = false;
  let watchdog: NodeJS.Timeout | undefined;
  return new Promise((resolve, reject) => {
    let started = false;
    worker.on('message', (message: RegistryThreadMessage) => {
      if (message.type === 'log') relay(logger, message.line);
      else if (message.type === 'failed') {
        reject(
          message.code
            ? new CroupierError(message.code, message.message, message.details)
            : new Error(`the schema registry's thread could not start: ${message.message}`),
        );
      } else if (message.type === 'listening') {
        started = true;
        registerWorkerThread('registry', worker, message.tid);
        watchdog = watchSilence(worker, 'schema registry', watchdogMs, logger, () => closing);
        resolve({
          url: message.url,
          host: message.host,
          port: message.port,
          async close() {
            closing = true;
            worker.postMessage('close');
            // A thread that does not close in time (stuck) is ended.
            await settleWithin(exited, CLOSE_WAIT_MS);
            await worker.terminate();
          },
          hang() {
            worker.postMessage('hang');
          },
        });
      }
    });
    worker.on('error', (error) => {
      if (!started) reject(error);
      else logger.error({ err: error }, "the schema registry's thread failed");
    });
    worker.once('exit', (code) => {
      clearInterval(watchdog);
      if (!started) reject(new Error(`the schema registry's thread ended (code ${code}) before it listened`));
      else if (!closing) {
        logger.error({ code }, "the schema registry's thread stopped unexpectedly");
        onExit?.(code);
      }
    });
  });
}

/** Logs a pino line of the thread with the logger of the thread that started it. */
function relay(logger: Logger, line: string): void {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = entry;
  const label = pino.levels.labels[Number(level)] as pino.Level | undefined;
  if (label) logger[label](fields, typeof msg === 'string' ? msg : '');
}
