/**
 * Wakes the load generator's event loop at each request's due time without spinning it. Node's timers resolve to
 * whole milliseconds, so an open loop at 500 requests/s or more, whose requests are due less than 2 ms apart, used
 * to poll with `setImmediate` until each was due: that spin cost the generator most of a core at any rate, CPU
 * taken from the server under test when both share a machine. Here a worker thread sleeps in `Atomics.wait`
 * (sub-millisecond timeouts) until the next due time and posts one message; the generator's loop stays idle, and
 * wakes tens of microseconds after the due time instead of up to a millisecond later.
 */
import { Worker } from 'node:worker_threads';

/** The worker's program (plain JavaScript, run with `eval`): says it is ready, then runs the schedule it is sent. */
const TICKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const flag = new Int32Array(workerData.stop);
const clock = () => performance.timeOrigin + performance.now();
parentPort.once('message', ({ startMs, intervalMs, count }) => {
  let next = 0;
  while (next < count && Atomics.load(flag, 0) === 0) {
    const wait = startMs + next * intervalMs - clock();
    if (wait > 0.02) {
      Atomics.wait(flag, 0, 0, wait);
      continue;
    }
    parentPort.postMessage(0);
    // Every due time passed meanwhile is served by that one wake-up.
    next = Math.max(next + 1, Math.floor((clock() - startMs) / intervalMs) + 1);
  }
});
parentPort.postMessage('ready');
`;

export interface Ticker {
  /**
   * Calls `onTick` at `startMs + k · intervalMs` (epoch ms, `epochNow()`), k = 0 … count − 1, one call for all the
   * due times that passed since the last one. Once per ticker.
   */
  run(startMs: number, intervalMs: number, count: number, onTick: () => void): void;
  /** Stops the worker (idempotent). */
  stop(): void;
}

/** The generator's clock in the ticker's terms: milliseconds since the epoch, sub-millisecond. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A ticker whose worker thread is up and waiting for its schedule. */
export async function startTicker(): Promise<Ticker> {
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(TICKER_SOURCE, { eval: true, workerData: { stop } });
  worker.unref();
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  let stopped = false;
  return {
    run(startMs, intervalMs, count, onTick) {
      worker.on('message', onTick);
      worker.postMessage({ startMs, intervalMs, count });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      const flag = new Int32Array(stop);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      worker.removeAllListeners('message');
      void worker.terminate();
    },
  };
}
