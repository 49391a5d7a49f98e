/**
 * The Thompson propensity integral's grid (thompson-integral.ts): its nodes, and the orders in which the
 * candidates' supports start and end along it.
 */
import type { IntegralScratch } from './integral-scratch.ts';

/**
 * Orders which[0..n−1] by key[which[m]], ascending, for keys in [min, max]: counted into n buckets, then an
 * insertion sort over the nearly sorted result (O(n) for keys spread evenly, where an insertion sort of the
 * candidates' own order would be O(n²)).
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
  counts.fill(0, 0, n + 1);
  for (let m = 0; m < n; m++) {
    copy[m] = which[m];
    counts[Math.min(n - 1, Math.floor((key[which[m]] - min) * scale)) + 1]++;
  }
  for (let c = 1; c <= n; c++) counts[c] += counts[c - 1];
  for (let m = 0; m < n; m++) {
    const r = copy[m];
    which[counts[Math.min(n - 1, Math.floor((key[r] - min) * scale))]++] = r;
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

/** First index g in grid[0..nodes−1] with grid[g] ≥ x (nodes when none). */
export function firstAtOrAbove(grid: Float64Array, nodes: number, x: number): number {
  let low = 0;
  let high = nodes;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (grid[mid] < x) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The grid from `regionLo` to `regionHi`, each step the finest step of the active candidates whose support holds
 * x, and never more than one of its own cells past the start of a support: a candidate far above the rest would
 * otherwise get no node inside its support, and its probability mass would be lost. The candidates are taken in
 * the order their supports start and end, and the finest step of those that hold x is kept from node to node,
 * found again only when the support that set it ends.
 */
export function buildGrid(
  regionLo: number,
  regionHi: number,
  count: number,
  scratch: IntegralScratch,
): number {
  const { lo, hi, step } = scratch;
  const { byStart, byEnd } = scratch.gridOrder(count);
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
  let finest = Number.POSITIVE_INFINITY;
  for (;;) {
    scratch.ensureGrid(nodes + 1);
    scratch.grid[nodes++] = x;
    if (x >= regionHi) break;
    while (started < count && lo[byStart[started]] <= x) {
      const r = byStart[started++];
      if (hi[r] > x && step[r] < finest) finest = step[r];
    }
    let stale = false;
    while (ended < count && hi[byEnd[ended]] <= x) {
      if (step[byEnd[ended]] <= finest) stale = true;
      ended++;
    }
    if (stale) {
      finest = Number.POSITIVE_INFINITY;
      for (let m = 0; m < started; m++) {
        const r = byStart[m];
        if (hi[r] > x && step[r] < finest) finest = step[r];
      }
    }
    let h = Math.min(regionHi - x, finest);
    for (let m = started; m < count && lo[byStart[m]] < x + h; m++) {
      const r = byStart[m];
      if (x + h > lo[r] + step[r]) h = lo[r] - x;
    }
    x = x + h >= regionHi - 1e-3 * h ? regionHi : x + h;
  }
  return nodes;
}
