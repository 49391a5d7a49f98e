/**
 * Runs a part of the loop in a worker thread and restarts it when it stops unexpectedly (an uncaught error, an
 * out-of-memory kill of the thread, the watchdog terminating a stuck one), as a process supervisor would: after
 * 1 s, doubling to 30 s while restarts keep failing. Fit for the parts whose restart loses nothing: the stream
 * topology seeks every partition to the offset Redis holds, the archive to its last committed file.
 */
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { Endpoints } from './embedded.ts';
import type { WorkerRole } from './worker-protocol.ts';
import { startWorkerThread, type WorkerHandle, type WorkerHooks } from './worker-thread.ts';

export interface SupervisedThread {
  /** Whether the thread runs now (false while it restarts). */
  running(): boolean;
  /** Restarts so far. */
  restarts(): number;
  /** Stops the thread at once, as a crash would; it is restarted (fault tests). */
  crash(): Promise<void>;
  /** Blocks the thread's event loop for good; the watchdog ends it and it is restarted (fault tests). */
  hang(): void;
  close(): Promise<void>;
}

const FIRST_RESTART_MS = 1000;
const LONGEST_RESTART_MS = 30_000;

/** Starts the thread (rejects when the first start fails) and keeps it running until `close()`. */
export async function superviseThread(
  role: Exclude<WorkerRole, 'broker'>,
  config: Readonly<Config>,
  logger: Logger,
  endpoints: Endpoints,
  hooks: Omit<WorkerHooks, 'onExit'> = {},
): Promise<SupervisedThread> {
  let worker: WorkerHandle | null = null;
  let restarts = 0;
  let closed = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let delayMs = FIRST_RESTART_MS;

  const start = () =>
    startWorkerThread(role, config, logger, endpoints, {
      ...hooks,
      onExit: () => {
        worker = null;
        scheduleRestart();
      },
    });

  function scheduleRestart(): void {
    if (closed) return;
    logger.warn({ role, inMs: delayMs }, `restarting the ${role} thread`);
    restartTimer = setTimeout(async () => {
      try {
        const started = await start();
        if (closed) {
          await started.close();
          return;
        }
        worker = started;
        restarts++;
        delayMs = FIRST_RESTART_MS;
        logger.info({ role, restarts }, `the ${role} thread restarted`);
      } catch (error) {
        logger.error({ err: error, role }, `the ${role} thread could not restart`);
        delayMs = Math.min(LONGEST_RESTART_MS, delayMs * 2);
        scheduleRestart();
      }
    }, delayMs);
  }

  worker = await start();
  return {
    running: () => worker !== null,
    restarts: () => restarts,
    async crash() {
      await worker?.crash();
    },
    hang() {
      worker?.hang();
    },
    async close() {
      closed = true;
      clearTimeout(restartTimer);
      await worker?.close();
      worker = null;
    },
  };
}
