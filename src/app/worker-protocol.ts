/** Messages between croupier's main thread and its worker threads (see worker-main.ts). */
import type { StreamMetricsSnapshot } from '../../streams/metrics.ts';
import type { ArchiveMetricsSnapshot } from '../archive/metrics.ts';

export type WorkerRole = 'broker' | 'topology' | 'archive';

export type WorkerInbound =
  | { type: 'close' }
  /** Blocks the thread's event loop for good, as a loop that never ends would: for fault tests. */
  | { type: 'hang' };

export type WorkerOutbound =
  /** `tid`: the thread's OS thread id where known (thread-cpu.ts); `memory`: where it writes its memory (thread-memory.ts). */
  | { type: 'ready'; address?: string; tid: number | null; memory?: SharedArrayBuffer }
  | { type: 'error'; message: string; code?: string }
  | { type: 'closed' }
  /** Sent every `WORKER_REPORT_MS` by a thread with nothing else to report (the broker): it is alive. */
  | { type: 'beat' }
  /** The topology's metrics, every `WORKER_REPORT_MS`, for the gateway's /readyz and /metrics. */
  | { type: 'metrics'; snapshot: StreamMetricsSnapshot }
  /** The archive's counters, as often, for the dashboard's jobs panel. */
  | { type: 'archive-metrics'; snapshot: ArchiveMetricsSnapshot };

/** How often a worker thread reports (metrics, or a beat) to the main thread (the watchdog's unit). */
export { THREAD_REPORT_MS as WORKER_REPORT_MS } from '../log/thread-watchdog.ts';
