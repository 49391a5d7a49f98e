/**
 * The layout of a batch of Thompson propensity integrals as it crosses to the propensity thread: one Float64Array,
 * transferred, never copied. Per decision: n, count, floor (NaN: the default), α[0..n), β[0..n), shown[0..count).
 * The reply: per decision, count propensities, then its tail bias and the µs the integral took.
 */
import { IntegralScratch, thompsonPropensitiesByIntegration } from '../bandit/thompson-integral.ts';

export interface PropensityBatchRequest {
  id: number;
  /** Decisions in `data`. */
  entries: number;
  data: Float64Array;
}

/** Sent instead of a batch: answer what came before, then end (the thread closes its port and exits). */
export const STOP = 'stop';

export interface PropensityBatchReply {
  id: number;
  out: Float64Array;
  /** The request's buffer, sent back for the next batch (allocating and zeroing one a batch costs more than it). */
  data?: Float64Array;
}

const HEADER = 3;

/** Doubles of a batch entry of n candidates and count shown items. */
export function entrySize(n: number, count: number): number {
  return HEADER + 2 * n + count;
}

/** Doubles of a reply entry of count shown items. */
export function replySize(count: number): number {
  return count + 2;
}

/** Appends one decision to `data` at `at`; returns the next offset. */
export function writeEntry(
  data: Float64Array,
  at: number,
  alpha: Float64Array,
  beta: Float64Array,
  n: number,
  shown: Int32Array,
  count: number,
  floor: number | undefined,
): number {
  data[at] = n;
  data[at + 1] = count;
  data[at + 2] = floor ?? Number.NaN;
  data.set(alpha.subarray(0, n), at + HEADER);
  data.set(beta.subarray(0, n), at + HEADER + n);
  for (let s = 0; s < count; s++) data[at + HEADER + 2 * n + s] = shown[s];
  return at + entrySize(n, count);
}

/** Integrates every entry of a batch (what the thread runs; also the fallback on the calling thread). */
export class BatchIntegrator {
  private readonly scratch = new IntegralScratch();
  private alpha = new Float64Array(256);
  private beta = new Float64Array(256);
  private shown = new Int32Array(16);
  private out = new Float64Array(16);

  run(request: PropensityBatchRequest): Float64Array {
    const { data, entries } = request;
    let size = 0;
    for (let e = 0, at = 0; e < entries; e++) {
      const n = data[at];
      const count = data[at + 1];
      size += replySize(count);
      at += entrySize(n, count);
    }
    const reply = new Float64Array(size);
    for (let e = 0, at = 0, to = 0; e < entries; e++) {
      const n = data[at];
      const count = data[at + 1];
      if (this.alpha.length < n) {
        this.alpha = new Float64Array(n);
        this.beta = new Float64Array(n);
      }
      if (this.shown.length < count) {
        this.shown = new Int32Array(count);
        this.out = new Float64Array(count);
      }
      const floor = Number.isNaN(data[at + 2]) ? undefined : data[at + 2];
      this.alpha.set(data.subarray(at + HEADER, at + HEADER + n));
      this.beta.set(data.subarray(at + HEADER + n, at + HEADER + 2 * n));
      for (let s = 0; s < count; s++) this.shown[s] = data[at + HEADER + 2 * n + s];
      const start = performance.now();
      const estimate = thompsonPropensitiesByIntegration(
        this.alpha,
        this.beta,
        n,
        this.shown,
        count,
        this.scratch,
        this.out,
        floor,
      );
      reply.set(this.out.subarray(0, count), to);
      reply[to + count] = estimate.tailBias;
      reply[to + count + 1] = Math.round((performance.now() - start) * 10000) / 10;
      to += replySize(count);
      at += entrySize(n, count);
    }
    return reply;
  }
}
