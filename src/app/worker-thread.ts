/**
 * Starts a part of the loop in a worker thread and returns a handle like the in-process one. An unexpected
 * exit of the worker is logged as an error and reported to `hooks.onExit` (a supervisor restarts it); `close()`
 * asks the worker to close cleanly, then terminates it; `crash()` terminates it at once, as a crash would.
 *
 * A watchdog: every thread reports each `WORKER_REPORT_MS`, and one that has sent nothing for
 * `stream.threadWatchdogMs` is stuck (a loop that does not end, as a record crafted against a decoder can cause):
 * nothing of it works, it would not hear `close` either, so it is terminated, logged, and reported as an
 * unexpected exit.
 */
import { Worker } from 'node:worker_threads';
import type { StreamMetricsSnapshot } from '../../streams/metrics.ts';
import type { ArchiveMetricsSnapshot } from '../archive/metrics.ts';
import type { Config } from '../config/index.ts';
import { CroupierError, isErrorCode } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import { registerWorkerThread } from '../log/thread-cpu.ts';
import { watchSilence } from '../log/thread-watchdog.ts';
import type { Endpoints } from './embedded.ts';
import type { WorkerOutbound, WorkerRole } from './worker-protocol.ts';

export interface WorkerHandle {
  /** The broker's `host:port`, for the broker role. */
  readonly address: string | undefined;
  close(): Promise<void>;
  /** Stops the thread at once (no clean-up in it), as a crash would: for fault tests. */
  crash(): Promise<void>;
  /** Blocks the thread's event loop for good, as a loop that never ends would: for fault tests. */
  hang(): void;
}

export interface WorkerHooks {
  /** The topology's metrics, as it reports them. */
  onMetrics?: (snapshot: StreamMetricsSnapshot) => void;
  /** The archive's counters, as it reports them. */
  onArchiveMetrics?: (snapshot: ArchiveMetricsSnapshot) => void;
  /** The thread stopped after it was ready, without being closed. */
  onExit?: (code: number) => void;
}

const BOOTSTRAP = new URL('./worker-bootstrap.js', import.meta.url);

export function startWorkerThread(
  role: WorkerRole,
  config: Readonly<Config>,
  logger: Logger,
  endpoints?: Endpoints,
  hooks: WorkerHooks = {},
): Promise<WorkerHandle> {
  const worker = new Worker(BOOTSTRAP, { workerData: { role, config, endpoints }, name: `croupier-${role}` });
  let closing = false;
  let started = false;
  let exited = false;
  let watchdog: NodeJS.Timeout | undefined;
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => {
      exited = true;
      clearInterval(watchdog);
      if (!closing) {
        logger.error({ role, code }, `the ${role} thread stopped unexpectedly`);
        if (started) hooks.onExit?.(code);
      }
      reject(
        new CroupierError(
          'CROUPIER_ERR_CHILD_PROCESS',
          `the ${role} thread exited (code ${code}) before it was ready`,
        ),
      );
    };
    worker.on('error', (error) => logger.error({ err: error, role }, `the ${role} thread failed`));
    worker.on('exit', onExit);
    worker.on('message', (message: WorkerOutbound) => {
      if (message.type === 'metrics') {
        hooks.onMetrics?.(message.snapshot);
        return;
      }
      if (message.type === 'archive-metrics') {
        hooks.onArchiveMetrics?.(message.snapshot);
        return;
      }
      if (message.type === 'error') {
        closing = true;
        // The thread may hold what its start had opened (a client, a timer): ended here, it cannot keep the
        // process alive after the start failed, with nothing left to close it.
        void worker.terminate();
        const code = isErrorCode(message.code) ? message.code : 'CROUPIER_ERR_CHILD_PROCESS';
        reject(new CroupierError(code, message.message, { role }));
        return;
      }
      if (message.type !== 'ready') return;
      started = true;
      registerWorkerThread(role, worker, message.tid, message.memory);
      watchdog = watchSilence(worker, role, config.stream.threadWatchdogMs, logger, () => closing);
      resolve({
        address: message.address,
        async close() {
          if (closing) return;
          closing = true;
          if (exited) return;
          // Done once the thread says its part closed (it need not wait for its event loop to empty: a kafkajs
          // client whose broker is gone keeps a restart timer there), or once it exits, or after 10 s.
          const closed = new Promise<void>((done) => {
            const finish = () => {
              clearTimeout(timer);
              worker.off('message', onClosed);
              done();
            };
            const onClosed = (m: WorkerOutbound) => {
              if (m.type === 'closed') finish();
            };
            const timer = setTimeout(finish, 10_000);
            worker.once('exit', finish);
            worker.on('message', onClosed);
          });
          worker.postMessage({ type: 'close' });
          await closed;
          await worker.terminate();
        },
        async crash() {
          await worker.terminate();
        },
        hang() {
          worker.postMessage({ type: 'hang' });
        },
      });
    });
  });
}
