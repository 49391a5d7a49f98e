/**
 * Body of the schema registry's thread: serves the registry here and tells the thread that started it where, then
 * closes it when asked. Log lines go to that thread's logger.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { CroupierError } from '../errors/index.ts';
import { ownThreadId } from '../log/thread-cpu.ts';
import { THREAD_REPORT_MS } from '../log/thread-watchdog.ts';
import type { RegistryThreadData, RegistryThreadMessage } from './registry-thread.ts';
import { startSchemaRegistry } from './server.ts';

const data = workerData as RegistryThreadData;
const post = (message: RegistryThreadMessage) => parentPort?.postMessage(message);
const logger = pino({ level: data.logLevel }, { write: (line: string) => post({ type: 'log', line }) });

try {
  const registry = await startSchemaRegistry({ ...data.options, logger });
  post({
    type: 'listening',
    url: registry.url,
    host: registry.host,
    port: registry.port,
    tid: ownThreadId(),
  });
  // A beat for the watchdog of the thread that started this one (a thread stuck parsing a schema sends none).
  const beat = setInterval(() => post({ type: 'beat' }), THREAD_REPORT_MS);
  parentPort?.on('message', (message: unknown) => {
    if (message === 'hang') for (;;);
    if (message !== 'close') return;
    clearInterval(beat);
    void registry.close().then(() => {
      post({ type: 'closed' });
      parentPort?.close();
    });
  });
} catch (error) {
  post({
    type: 'failed',
    code: error instanceof CroupierError ? error.code : undefined,
    message: (error as Error)?.message ?? String(error),
    details: error instanceof CroupierError ? error.details : undefined,
  });
  parentPort?.close();
}
