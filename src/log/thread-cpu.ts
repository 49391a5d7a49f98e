/**
 * Which of this process's threads is which, and the CPU (and memory, thread-memory.ts) each has used: every croupier thread (the main thread,
 * the broker, topology and archive threads, the propensity thread) registers its OS thread id here, read on
 * Linux from /proc/thread-self, and `/metrics` reports `croupier_thread_cpu_seconds_total{thread}` and the
 * event-loop time each spent busy, so an operator (and `bench:loadtest`) sees which thread saturates first.
 * Elsewhere thread ids are unknown and only the event-loop figures are reported.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { ownMemory, readMemoryReport, type ThreadMemory } from './thread-memory.ts';

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on every Linux build Node supports). */
const TICKS_PER_SECOND = 100;

/** The calling thread's OS thread id, or null where /proc/thread-self does not exist. */
export function ownThreadId(): number | null {
  try {
    const link = readlinkSync('/proc/thread-self');
    const tid = Number(link.slice(link.lastIndexOf('/') + 1));
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) thread `tid` of this process used so far, or null when it is gone or unknown. */
export function threadCpuSeconds(tid: number | null): number | null {
  if (tid === null) return null;
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    // Fields after the command name (which may hold spaces) start after the last ')'; utime and stime are the
    // 14th and 15th fields of the line, the 12th and 13th after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

export interface ThreadReading {
  thread: string;
  cpuSeconds: number | null;
  /** Seconds its event loop was busy (not waiting for I/O) since the thread started. */
  eventLoopActiveSeconds: number;
  /** Its heap and off-heap memory (thread-memory.ts); null until a worker thread has reported it. */
  memory: ThreadMemory | null;
}

interface Registered {
  tid: number | null;
  activeMs: () => number;
  memory: () => ThreadMemory | null;
  worker?: Worker;
}

const threads = new Map<string, Registered>();

/** The main thread, under `name`. */
export function registerMainThread(name = 'main'): void {
  threads.set(name, {
    tid: ownThreadId(),
    activeMs: () => performance.eventLoopUtilization().active,
    memory: ownMemory,
  });
}

/**
 * A worker thread that reported its OS thread id (null: unknown) and the buffer it writes its memory into
 * (`startMemoryReports`; undefined: not reported).
 */
export function registerWorkerThread(
  name: string,
  worker: Worker,
  tid: number | null,
  memory?: SharedArrayBuffer,
): void {
  threads.set(name, {
    tid,
    worker,
    activeMs: () => worker.performance.eventLoopUtilization().active,
    memory: () => readMemoryReport(memory),
  });
  worker.once('exit', () => {
    if (threads.get(name)?.worker === worker) threads.delete(name);
  });
}

export function readThreads(): ThreadReading[] {
  return [...threads].map(([thread, r]) => ({
    thread,
    cpuSeconds: threadCpuSeconds(r.tid),
    eventLoopActiveSeconds: r.activeMs() / 1000,
    memory: r.memory(),
  }));
}
