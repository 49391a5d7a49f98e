/**
 * The memory each croupier thread holds: every worker thread writes its V8 heap and its off-heap (external)
 * memory into a small shared buffer every few seconds, and the main thread reads them when `/metrics` is scraped.
 * The process's resident memory is one number for all threads; these say which thread it is (the broker's
 * record batches are Buffers, external memory; the caches are on the heap), so an operator and `npm run soak` can
 * tell a thread that grows from one that has levelled off. Values are V8's heap statistics of the calling thread's
 * own isolate (what `process.memoryUsage()` reports without its resident size: reading that opens /proc/self/stat,
 * and with every file descriptor taken, say by as many WebSockets as RLIMIT_NOFILE allows, it throws EMFILE, which
 * out of this timer ended the topology and archive threads).
 */
import { getHeapStatistics } from 'node:v8';

/** Heap used, heap total, external (Buffers and ArrayBuffers included), when written (ms since the epoch). */
const FIELDS = 4;
/** How often a worker thread writes its figures. */
export const MEMORY_REPORT_MS = 5_000;

export interface ThreadMemory {
  /** V8 heap in use, bytes. */
  heapUsed: number;
  /** V8 heap reserved, bytes. */
  heapTotal: number;
  /** Memory held outside the V8 heap by this thread's objects (Buffers, ArrayBuffers), bytes. */
  external: number;
}

function writeInto(slot: Float64Array): void {
  const m = ownMemory();
  slot[0] = m.heapUsed;
  slot[1] = m.heapTotal;
  slot[2] = m.external;
  slot[3] = Date.now();
}

/**
 * Called once in a worker thread: starts writing its memory into a shared buffer every `MEMORY_REPORT_MS` (on a
 * timer that keeps no thread alive) and returns the buffer, for the worker to send its parent.
 */
export function startMemoryReports(intervalMs = MEMORY_REPORT_MS): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(FIELDS * Float64Array.BYTES_PER_ELEMENT);
  const slot = new Float64Array(buffer);
  writeInto(slot);
  setInterval(() => writeInto(slot), intervalMs).unref();
  return buffer;
}

/** A worker's last written figures, or null before it wrote any (or when `buffer` is not such a buffer). */
export function readMemoryReport(buffer: SharedArrayBuffer | undefined): ThreadMemory | null {
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < FIELDS * Float64Array.BYTES_PER_ELEMENT)
    return null;
  const slot = new Float64Array(buffer, 0, FIELDS);
  if (slot[3] === 0) return null;
  return { heapUsed: slot[0]!, heapTotal: slot[1]!, external: slot[2]! };
}

/** The calling thread's memory now; needs no file descriptor. */
export function ownMemory(): ThreadMemory {
  const h = getHeapStatistics();
  return { heapUsed: h.used_heap_size, heapTotal: h.total_heap_size, external: h.external_memory };
}
