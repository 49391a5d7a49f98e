/**
 * Thompson sampling's logged propensities integrated on threads of their own (`threads`, default 1), so the
 * gateway's main thread only deals carousels. Decisions are gathered into one batch per turn of the event loop (or
 * `batchMax`, whichever comes first) and cross as one transferred buffer (propensity-batch.ts) to the thread with
 * the fewest decisions in flight; each job's `finish` runs on the main thread when its batch comes back (batches of
 * two threads may come back out of order: the event log keeps its records in order while they are held).
 *
 * Bounded: past `maxBacklog` decisions queued or in flight, `submit` refuses and the caller integrates in place,
 * which slows the main thread down as a backlog would, without losing or delaying a record without bound. If the
 * thread dies, the jobs it held finish with `null` (the caller integrates them in place) and the next batch
 * starts a new thread. One that fails before it started (no descriptor left for it, say) is started again only
 * after a backoff (`restartBackoffMs`, doubled per failure up to `MAX_RESTART_BACKOFF_MS`); batches meanwhile finish
 * with `null`, rather than each trying, and logging, a start that fails.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log/logger.ts';
import { registerWorkerThread } from '../log/thread-cpu.ts';
import {
  entrySize,
  type PropensityBatchReply,
  type PropensityBatchRequest,
  replySize,
  STOP,
  writeEntry,
} from './propensity-batch.ts';

const ENTRY = new URL('./propensity-thread.js', import.meta.url);

/**
 * A batch waits this long for more decisions before it goes: each batch costs both threads a message and a wake-up
 * (a few hundred µs of CPU in all on two cores, measured against the integral alone), so at hundreds of carousels a
 * second batches of several pay less than one per event-loop turn. The carousel records wait for it, never a reply.
 */
export const BATCH_WAIT_MS = 2;
/** Request buffers kept for reuse once a thread sends them back. */
const SPARE_BUFFERS = 8;
/** The longest wait before a thread that failed to start is started again. */
export const MAX_RESTART_BACKOFF_MS = 30_000;

export interface OffloadJob {
  alpha: Float64Array;
  beta: Float64Array;
  shown: Int32Array;
  n: number;
  count: number;
  floor: number | undefined;
  /**
   * Called on the main thread with the batch's reply and this job's offset in it (count propensities, the tail
   * bias, the integral's µs), or with `null` when the thread failed.
   */
  finish(reply: Float64Array | null, at: number): void;
}

export interface PropensityOffloadOptions {
  logger: Logger;
  /** Most decisions queued or in flight before `submit` refuses (default 1,024). */
  maxBacklog?: number;
  /** Most decisions in one batch (default 64). */
  batchMax?: number;
  /** Threads that integrate (default 1): on a machine with cores to spare, more carousels a second. */
  threads?: number;
  /** First wait before a thread that failed to start is started again (default 1,000 ms), doubled per failure. */
  restartBackoffMs?: number;
}

export interface PropensityOffloadStats {
  /** Decisions integrated on the thread. */
  offloaded: number;
  /** Decisions refused because the backlog was full. */
  refused: number;
  /** Decisions whose batch was lost with a failed thread, or found no thread while one could not start. */
  failed: number;
  /** Decisions queued or in flight now. */
  backlog: number;
  /** Decisions each thread integrated (the threads in start order; a restarted thread keeps its place). */
  perThread: number[];
}

interface Running {
  worker: Worker;
  pending: Map<number, OffloadJob[]>;
  /** Decisions in the batches posted to it and not answered yet. */
  inFlight: number;
  dead: boolean;
  /** Whether the thread said it runs (its first message). */
  started: boolean;
}

export class PropensityOffload {
  /** One place per thread: its running thread, or null before it starts and after it died. */
  private readonly running: (Running | null)[];
  private batch: OffloadJob[] = [];
  private data = new Float64Array(1 << 14);
  private used = 0;
  private readonly spare: Float64Array<ArrayBuffer>[] = [];
  private scheduled = false;
  private nextId = 1;
  private closed = false;
  private readonly maxBacklog: number;
  private readonly batchMax: number;
  private readonly logger: Logger;
  private readonly counts = { offloaded: 0, refused: 0, failed: 0, backlog: 0 };
  private readonly perThread: number[];
  private readonly restartBackoffMs: number;
  /** Per place: failed starts in a row, and when (performance.now()) it may be started again. */
  private readonly failedStarts: number[];
  private readonly restartAt: number[];

  constructor(options: PropensityOffloadOptions) {
    this.logger = options.logger;
    this.maxBacklog = options.maxBacklog ?? 1024;
    this.batchMax = options.batchMax ?? 64;
    this.restartBackoffMs = options.restartBackoffMs ?? 1000;
    const threads = Math.max(1, Math.floor(options.threads ?? 1));
    this.running = Array.from({ length: threads }, () => null);
    this.perThread = Array.from({ length: threads }, () => 0);
    this.failedStarts = Array.from({ length: threads }, () => 0);
    this.restartAt = Array.from({ length: threads }, () => 0);
  }

  stats(): PropensityOffloadStats {
    return { ...this.counts, perThread: [...this.perThread] };
  }

  /** Queues `job` for the thread; false (the caller integrates it) when the backlog is full or this is closed. */
  submit(job: OffloadJob): boolean {
    if (this.closed || this.counts.backlog >= this.maxBacklog) {
      this.counts.refused++;
      return false;
    }
    const size = entrySize(job.n, job.count);
    if (this.used + size > this.data.length) {
      const grown = new Float64Array(Math.max(this.data.length * 2, this.used + size));
      grown.set(this.data.subarray(0, this.used));
      this.data = grown;
    }
    this.used = writeEntry(this.data, this.used, job.alpha, job.beta, job.n, job.shown, job.count, job.floor);
    this.batch.push(job);
    this.counts.backlog++;
    if (this.batch.length >= this.batchMax) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => this.flush(), BATCH_WAIT_MS);
    }
    return true;
  }

  /**
   * Stops the thread: it answers the batches it holds and ends on its own (so a CPU profile of it is written, as
   * for every other croupier thread); after `graceMs`, or if it died, the jobs it still held finish with `null`
   * (their callers integrate them in place).
   */
  async close(graceMs = 2_000): Promise<void> {
    if (this.closed) return;
    // The batch still gathering goes to a thread like the others.
    this.flush();
    this.closed = true;
    const live = this.running.filter((r): r is Running => r !== null && !r.dead);
    if (live.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const exited = Promise.all(
        live.map((r) => new Promise<void>((resolve) => r.worker.once('exit', () => resolve()))),
      );
      for (const r of live) r.worker.postMessage(STOP);
      await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    await this.crash();
  }

  /** Stops the threads at once, as a crash would (for fault tests); the next batches start new ones. */
  async crash(): Promise<void> {
    const stopping: Promise<number>[] = [];
    for (let i = 0; i < this.running.length; i++) {
      const r = this.running[i];
      this.running[i] = null;
      if (r !== null) {
        this.fail(r);
        stopping.push(r.worker.terminate());
      }
    }
    await Promise.all(stopping);
  }

  private flush(): void {
    this.scheduled = false;
    if (this.batch.length === 0) return;
    const jobs = this.batch;
    const data = this.data;
    this.batch = [];
    if (this.closed) {
      this.used = 0;
      this.counts.backlog -= jobs.length;
      for (const job of jobs) job.finish(null, 0);
      return;
    }
    this.data = this.spare.pop() ?? new Float64Array(Math.max(1 << 14, this.used));
    this.used = 0;
    const r = this.leastBusy();
    if (r === null) {
      // No thread runs and none may start yet: the callers integrate these in place.
      this.counts.backlog -= jobs.length;
      this.counts.failed += jobs.length;
      if (this.spare.length < SPARE_BUFFERS) this.spare.push(data as Float64Array<ArrayBuffer>);
      for (const job of jobs) job.finish(null, 0);
      return;
    }
    const id = this.nextId++;
    r.pending.set(id, jobs);
    r.inFlight += jobs.length;
    const request: PropensityBatchRequest = { id, entries: jobs.length, data };
    r.worker.postMessage(request, [data.buffer as ArrayBuffer]);
  }

  /**
   * The thread with the fewest decisions in flight, started if it is not running; null when none runs and none may
   * start yet (each that failed to start waits out its backoff).
   */
  private leastBusy(): Running | null {
    let best: Running | null = null;
    for (let i = 0; i < this.running.length; i++) {
      const r = this.running[i] ?? null;
      if (r === null) {
        if (performance.now() >= (this.restartAt[i] as number)) return this.start(i);
        continue;
      }
      if (best === null || r.inFlight < best.inFlight) best = r;
    }
    return best;
  }

  private start(place: number): Running {
    const worker = new Worker(ENTRY, { name: 'croupier-propensity' });
    worker.unref();
    const r: Running = { worker, pending: new Map(), inFlight: 0, dead: false, started: false };
    // The first thread is `propensity` in the CPU metrics, as when there was one; the others `propensity-2`, …
    const name = place === 0 ? 'propensity' : `propensity-${place + 1}`;
    worker.on(
      'message',
      (reply: PropensityBatchReply | { tid: number | null; memory?: SharedArrayBuffer }) => {
        if (!('id' in reply)) {
          r.started = true;
          this.failedStarts[place] = 0;
          registerWorkerThread(name, worker, reply.tid, reply.memory);
          return;
        }
        const jobs = r.pending.get(reply.id);
        if (jobs === undefined) return;
        r.pending.delete(reply.id);
        r.inFlight -= jobs.length;
        if (reply.data !== undefined && this.spare.length < SPARE_BUFFERS)
          this.spare.push(reply.data as Float64Array<ArrayBuffer>);
        this.counts.backlog -= jobs.length;
        this.counts.offloaded += jobs.length;
        this.perThread[place] += jobs.length;
        for (let j = 0, at = 0; j < jobs.length; j++) {
          jobs[j].finish(reply.out, at);
          at += replySize(jobs[j].count);
        }
      },
    );
    worker.on('error', (error) => {
      this.logger.error(
        { err: error, thread: name },
        'a propensity thread failed; its batches are integrated on the main thread, and it restarts',
      );
      this.fail(r);
    });
    worker.on('exit', (code) => {
      if (!this.closed) this.logger.error({ code, thread: name }, 'a propensity thread stopped');
      this.fail(r);
    });
    this.running[place] = r;
    return r;
  }

  /** Finishes every job the thread held with `null`; one that never started makes its place wait to start again. */
  private fail(r: Running): void {
    if (r.dead) return;
    r.dead = true;
    const place = this.running.indexOf(r);
    if (place >= 0) {
      this.running[place] = null;
      if (!r.started) {
        const failures = ++this.failedStarts[place];
        const wait = Math.min(this.restartBackoffMs * 2 ** (failures - 1), MAX_RESTART_BACKOFF_MS);
        this.restartAt[place] = performance.now() + wait;
      }
    }
    for (const jobs of r.pending.values()) {
      this.counts.backlog -= jobs.length;
      this.counts.failed += jobs.length;
      for (const job of jobs) job.finish(null, 0);
    }
    r.pending.clear();
  }
}
