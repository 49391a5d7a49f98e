/**
 * The watchdog of croupier's worker threads: each reports (metrics, or a beat) every `THREAD_REPORT_MS`, and one
 * that has sent nothing for `stream.threadWatchdogMs` is stuck in a loop (nothing of it works, and it would not hear
 * a request to close either), so it is terminated; its owner hears of it as of any unexpected exit.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from './logger.ts';

/** How often a worker thread reports to the thread that started it. */
export const THREAD_REPORT_MS = 1000;

/**
 * Terminates `worker` once it has sent nothing for `silentMs` (0: never). Time the main thread itself was blocked
 * does not count against the worker: its messages wait in the queue meanwhile, so a gap between two of the
 * watchdog's own ticks starts the count again.
 */
export function watchSilence(
  worker: Worker,
  role: string,
  silentMs: number,
  logger: Logger,
  closing: () => boolean,
): NodeJS.Timeout | undefined {
  if (silentMs <= 0) return undefined;
  const tickMs = Math.max(1, Math.min(THREAD_REPORT_MS, Math.floor(silentMs / 4)));
  let heardAt = performance.now();
  let tickedAt = heardAt;
  worker.on('message', () => {
    heardAt = performance.now();
  });
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - tickedAt > 2 * tickMs + THREAD_REPORT_MS) heardAt = now;
    tickedAt = now;
    const silent = Math.round(now - heardAt);
    if (closing() || silent < silentMs) return;
    clearInterval(timer);
    logger.error(
      { role, silentMs: silent },
      `the ${role} thread has reported nothing for ${silent} ms (stream.threadWatchdogMs ${silentMs}): it is stuck, and is terminated`,
    );
    void worker.terminate();
  }, tickMs);
  timer.unref();
  return timer;
}
