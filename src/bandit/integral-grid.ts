/**
 * The Thompson propensity integral's grid (thompson-integral.ts): its nodes, and the orders in which the
 * candidates' supports start and end along it.
 */
import type { IntegralScratch } from './integral-scratch.ts';

/**
 * Orders which[0..n−1] by key[which[m]], ascending: counted into n buckets over [min, max] (a key outside it goes
 * to the first or last bucket), then an insertion sort over the nearly sorted result (O(n) for keys spread evenly,
 * where an insertion sort of the candidates' own order would be O(n²)).
 */
export function sortByKey(
  which: Int32Array,
  n: number,
  key: Float64Array | Int32Array,
  min: number,
  max: number,
  scratch: IntegralScratch,
): void {
  const { counts, copy } = scratch.buckets(n);
  const scale = max > min ? n / (max - min) : 0;
  // A key outside [min, max] goes to the first or last bucket (the insertion sort orders it there).
  const bucket = (value: number) => Math.max(0, Math.min(n - 1, Math.floor((value - min) * scale)));
  counts.fill(0, 0, n + 1);
  for (let m = 0; m < n; m++) {
    copy[m] = which[m];
    counts[bucket(key[which[m]]) + 1]++;
  }
  for (let c = 1; c <= n; c++) counts[c] += counts[c - 1];
  for (let m = 0; m < n; m++) {
    const r = copy[m];
    which[counts[bucket(key[r])]++] = r;
  }
  for (let i = 1; i < n; i++) {
    const r = which[i];
    const value = key[r];
    let j = i - 1;
    while (j >= 0 && key[which[j]] > value) {
      which[j + 1] = which[j];
      j--;
    }
    which[j + 1] = r;
  }
}

/** Adds candidate r to the min-heap heap[0..size−1] ordered by step[·]; returns the new size. */
function heapPush(heap: Int32Array, size: number, r: number, step: Float64Array): number {
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (step[heap[parent]] <= step[r]) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = r;
  return size + 1;
}

/** Removes the top of the min-heap heap[0..size−1] ordered by step[·]; returns the new size. */
function heapPop(heap: Int32Array, size: number, step: Float64Array): number {
  const last = heap[--size];
  let i = 0;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && step[heap[child + 1]] < step[heap[child]]) child++;
    if (step[heap[child]] >= step[last]) break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = last;
  return size;
}

/**
 * The grid from `regionLo` to `regionHi`, each step the finest step of the active candidates whose support holds
 * x, and never more than one of its own cells past the start of a support: a candidate far above the rest would
 * otherwise get no node inside its support, and its probability mass would be lost. The candidates are taken in
 * the order their supports start and end; those that hold x sit in a heap by their step, the finest on top (one
 * whose support has ended leaves when it reaches the top). Writes each candidate's first node (the first at or
 * above the start of its support) and last node (the last at or below its end), and leaves the candidates in the
 * order their supports end in `scratch.gridOrder(count).byEnd`.
 */
export function buildGrid(
  regionLo: number,
  regionHi: number,
  count: number,
  scratch: IntegralScratch,
): number {
  const { lo, hi, step, firstNode, lastNode } = scratch;
  const { byStart, byEnd, heap } = scratch.gridOrder(count);
  for (let r = 0; r < count; r++) {
    byStart[r] = r;
    byEnd[r] = r;
  }
  sortByKey(byStart, count, lo, regionLo, regionHi, scratch);
  sortByKey(byEnd, count, hi, regionLo, regionHi, scratch);
  let nodes = 0;
  let x = regionLo;
  let started = 0;
  let ended = 0;
  let held = 0;
  for (;;) {
    scratch.ensureGrid(nodes + 1);
    scratch.grid[nodes++] = x;
    const g = nodes - 1;
    const last = x >= regionHi;
    while (started < count && (last || lo[byStart[started]] <= x)) {
      const r = byStart[started++];
      firstNode[r] = g;
      if (hi[r] > x) held = heapPush(heap, held, r, step);
    }
    while (ended < count && (last || hi[byEnd[ended]] <= x)) {
      const r = byEnd[ended++];
      lastNode[r] = hi[r] >= x ? g : g - 1;
    }
    if (last) break;
    while (held > 0 && hi[heap[0]] <= x) held = heapPop(heap, held, step);
    let h = Math.min(regionHi - x, held > 0 ? step[heap[0]] : Number.POSITIVE_INFINITY);
    for (let m = started; m < count && lo[byStart[m]] < x + h; m++) {
      const r = byStart[m];
      if (x + h > lo[r] + step[r]) h = lo[r] - x;
    }
    x = x + h >= regionHi - 1e-3 * h ? regionHi : x + h;
  }
  return nodes;
}
