/**
 * Runs the stream topology in a worker thread and restarts it when it stops unexpectedly (an uncaught error, an
 * out-of-memory kill of the thread), as a process supervisor would: after 1 s, doubling to 30 s while restarts
 * keep failing. Nothing is lost by a restart: the new topology seeks every partition to the offset Redis holds.
 * Keeps the topology's last metrics report, which `health()` hands to the gateway's /readyz and /metrics.
 */
import type { StreamMetricsSnapshot } from '../../streams/metrics.ts';
import type { Config } from '../config/index.ts';
import type { StreamHealthReport } from '../gateway/state-health.ts';
import type { Logger } from '../log/logger.ts';
import type { Endpoints } from './embedded.ts';
import { startWorkerThread, type WorkerHandle } from './worker-thread.ts';

export interface TopologySupervisor {
  health(): StreamHealthReport;
  /** Stops the topology thread at once, as a crash would; the supervisor restarts it (fault tests). */
  crash(): Promise<void>;
  close(): Promise<void>;
}

const FIRST_RESTART_MS = 1000;
const LONGEST_RESTART_MS = 30_000;

/** Starts the topology thread (rejects when the first start fails) and keeps it running until `close()`. */
export async function superviseTopology(
  config: Readonly<Config>,
  logger: Logger,
  endpoints: Endpoints,
): Promise<TopologySupervisor> {
  let worker: WorkerHandle | null = null;
  let metrics: StreamMetricsSnapshot | null = null;
  let reportedAt = Date.now();
  let restarts = 0;
  let closed = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let delayMs = FIRST_RESTART_MS;

  const start = () =>
    startWorkerThread('topology', config, logger, endpoints, {
      onMetrics: (snapshot) => {
        metrics = snapshot;
        reportedAt = Date.now();
      },
      onExit: () => {
        worker = null;
        scheduleRestart();
      },
    });

  function scheduleRestart(): void {
    if (closed) return;
    logger.warn({ inMs: delayMs }, 'restarting the stream topology');
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
        logger.info({ restarts }, 'stream topology restarted');
      } catch (error) {
        logger.error({ err: error }, 'the stream topology could not restart');
        delayMs = Math.min(LONGEST_RESTART_MS, delayMs * 2);
        scheduleRestart();
      }
    }, delayMs);
  }

  worker = await start();
  return {
    health: () => ({ running: worker !== null, metrics, ageMs: Date.now() - reportedAt, restarts }),
    async crash() {
      await worker?.crash();
    },
    async close() {
      closed = true;
      clearTimeout(restartTimer);
      await worker?.close();
      worker = null;
    },
  };
}
