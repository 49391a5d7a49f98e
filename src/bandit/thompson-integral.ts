/**
 * Propensities of Thompson sampling by numerical integration: deterministic, so their inverses are as good as
 * the propensities themselves (a Monte Carlo p̃ that is unbiased for p still has E[1/p̃] ≫ 1/p when it is
 * noisy, and IPS divides by it).
 *
 * With θⱼ ~ Beta(αⱼ, βⱼ) independent and the slate the top k by θ,
 *
 *   P(i at slot s) = ∫ e_s(x) dFᵢ(x),   e_s(x) = P(exactly s of the other θⱼ exceed x),
 *
 * e_s the Poisson-binomial probability of the others' tails qⱼ(x) = 1 − Fⱼ(x). The integral runs over a grid
 * that holds every relevant candidate's own nodes (half its standard deviation apart, `DEFAULT_RESOLUTION`),
 * so Fᵢ and every Fⱼ are resolved; it is summed by the trapezoid rule in u = Fᵢ(x), which stays exact where a
 * density is unbounded (shapes below 1), over every node and over every other node, and the two sums are combined
 * by Richardson extrapolation ((4·I_h − I_2h)/3), which cancels the rule's h² error term: against 24-nodes-per-σ
 * references this is ten times more accurate than the plain rule at twice the nodes. Where a crowd of near-equal
 * candidates makes e_s change faster than any one of them, this extrapolation and the same one a step coarser
 * disagree, and the integral is taken again on a grid twice as fine, until they agree (REFINE_ABS, REFINE_REL and
 * MAX_NODES_PER_SD below).
 *
 * The sweep runs over the nodes from the top down. Each candidate's Fⱼ is computed as the sweep reaches its
 * support: from 1 at the support's upper bound, then cell by cell by the end-corrected trapezoid rule (exact
 * `betaCdf` near 0 or 1 where a shape below 2 makes the density rough), the density stepped from node to node by
 * its ratio between them rather than an exponential each. The sweep ends at the first node where
 * the others outside the slate leave fewer than k of them above x with probability below STOP = 1e-8: that
 * probability only falls further down (every qⱼ grows as x falls), and it bounds every slot's e_s there, so what
 * is left out is at most STOP·Fᵢ ≤ 1e-8 per propensity; candidates whose support lies below that node are never
 * computed. In a 200-candidate slate this skips the bottom fifth of the grid, where most candidates overlap.
 *
 * Which candidates are relevant: the region is the union of the shown items' supports [loᵢ, hiᵢ] (Chernoff
 * bounds, found by Newton's method, put at most 1e-8 of each item's mass outside). A candidate whose θ is below
 * the region's start, or above its end, except with probability ≤ 1e-8 (Chernoff again) is left out, or counted
 * as always above; the rest are active. The bias this adds is at most 2·1e-8 per candidate, and the sweep's end
 * adds 1e-8 (`tailBias` = 2·1e-8·n + 1e-8). A CDF started from 1 at its support's upper bound is off by the mass
 * above that bound, at most 1e-8, inside the support, where the tails cost nothing: at every x each candidate's
 * qⱼ is still off by at most 1e-8 from its tails, so the bound stands.
 *
 * Ties: draws that round to exactly 1.0 or 0 are atoms the slate orders uniformly at random (see
 * policies.ts); the continuous part uses Fᵢ clamped to exclude them and the atoms are added exactly.
 */
import { logBeta } from '../stats/special.ts';
import { betaCdf } from './beta-cdf.ts';
import { buildGrid } from './integral-grid.ts';
import { IntegralScratch } from './integral-scratch.ts';
import { insideSupport, lowerBound, regionStart, TAIL, upperBound } from './integral-support.ts';
import { chernoffLowerTail, chernoffTail, roundingAtoms } from './thompson-propensity.ts';

export { IntegralScratch };

/**
 * The density's ratio between nodes is stepped from node to node by e^t, t the change of its logarithm, from a
 * Taylor polynomial where |t| < SMALL (relative error below 4.4e-14 a step), and the density is computed exactly
 * every RESYNC nodes: against exact densities, the stepped ones are within 5e-12 relative on the tests' and the
 * bench's states (the test allows 1e-10).
 */
const SMALL = 0.3;
const RESYNC = 64;

/** The sweep stops once fewer than k others are above x with at most this probability. */
const STOP = 1e-8;

/**
 * Where the grid does not resolve the integrand the integral is taken again on a grid twice as fine (up to
 * MAX_NODES_PER_SD nodes per standard deviation). Half a standard deviation of each candidate is fine enough where
 * the candidates' posteriors differ, but not where a crowd of near-equal ones (a young catalog the model scores
 * alike and nobody has clicked yet, as under a load test) surrounds a shown item: the number of others above x
 * then changes on a scale of about σ/√m for m of them, and on σ/2 the integral missed by up to 16 % relative
 * (3.9e-3). The test: the trapezoid sums over every node, every other node and every fourth node give two
 * Richardson extrapolations, at h and at 2h, that agree to O(h⁴) where the grid resolves the integrand; the grid
 * is refined where they differ by more than REFINE_ABS + REFINE_REL·p for some slot. (The sums at h and 2h alone
 * differ by their h² term on well-resolved integrals too, which would refine where nothing needs it.)
 */
const REFINE_ABS = 2e-3;
const REFINE_REL = 0.04;
const MAX_NODES_PER_SD = 16;

/** How fine the integration grid is. */
export interface IntegralResolution {
  /** Table nodes per standard deviation of a candidate's posterior. */
  readonly nodesPerSd: number;
  /** Most table cells per candidate (wide posteriors get wider cells). */
  readonly maxCells: number;
}

export const DEFAULT_RESOLUTION: IntegralResolution = { nodesPerSd: 2, maxCells: 48 };

export interface IntegralEstimate {
  /** Candidates with CDF tables (the others are always below or always above the shown items). */
  readonly active: number;
  /** Grid nodes the integrals ran over. */
  readonly nodes: number;
  /** Bound on the bias of leaving candidates and tails out. */
  readonly tailBias: number;
  /**
   * The lowest x the sweep reached: below it the candidates outside the slate leave fewer than k of them above x
   * with probability below 1e-8 (the region's start when the sweep ran through).
   */
  readonly end: number;
}

/**
 * Brings the F of the active candidates which[0..count−1] to node g, the sweep running downwards, and returns how
 * many remain live (the others are dropped from `which`: g is below their support). At the top node of a support F
 * starts from 1 at the support's upper bound (the bound leaves at most TAIL above it, and lies at most one of the
 * candidate's cells above the node: the grid's step is never more than the candidate's); exact (`betaCdf`) where
 * the support was cut at the region's end. Then F is stepped down from its value at node g + 1 by the trapezoid
 * rule with its end correction h²/12·(f′₀ − f′₁) over the cell (error O(h⁴); cells are at most half of the
 * candidate's standard deviation), or exact where the cell is within 8 widths of 0 with α < 2, or of 1 with β < 2
 * (the density or its derivatives are unbounded there). The density comes from the one a node above times the ratio
 * ρ between the nodes, itself stepped from the ratio a node above (`nextRatio`), with an exponential every RESYNC
 * nodes and where the step is large. Reads the node's ln x, ln(1 − x), 1/x, 1/(1 − x) and the steps of ln x and
 * ln(1 − x) from the scratch's node arrays.
 */
function stepCdfs(
  which: Int32Array,
  count: number,
  g: number,
  regionHi: number,
  scratch: IntegralScratch,
): number {
  const { a: as, b: bs, cdf, density, slope, ratio, known, grid, firstNode, lastNode } = scratch;
  const { invX, inv1mX, stepLogX, stepLog1mX } = scratch;
  const x0 = grid[g];
  const x1 = g + 1 < grid.length ? grid[g + 1] : 1;
  const h = x1 - x0;
  const rough = x0 <= 0 || x1 >= 1 || g % RESYNC === 0;
  const near0 = x0 < 8 * h;
  const near1 = 1 - x1 < 8 * h;
  const ix0 = invX[g];
  const ix1 = inv1mX[g];
  const c0 = 0.5 * h;
  const c1 = (h * h) / 12;
  // The second differences of ln x and ln(1 − x) at g: ln ρ changes by (α − 1)·curveX + (β − 1)·curve1mX.
  const inner = g + 1 < stepLogX.length;
  const curveX = inner ? stepLogX[g] - stepLogX[g + 1] : 0;
  const curve1mX = inner ? stepLog1mX[g] - stepLog1mX[g + 1] : 0;
  let kept = 0;
  for (let m = 0; m < count; m++) {
    const r = which[m];
    if (firstNode[r] > g) continue;
    which[kept++] = r;
    const a = as[r];
    const b = bs[r];
    const t = (a - 1) * curveX + (b - 1) * curve1mX;
    if (
      known[r] !== 2 ||
      rough ||
      t <= -SMALL ||
      t >= SMALL ||
      g === lastNode[r] ||
      (a < 2 && near0) ||
      (b < 2 && near1)
    ) {
      stepExactly(r, g, regionHi, scratch);
      continue;
    }
    const rho = ratio[r] * nextRatio(t);
    const f0 = density[r] * rho;
    const d0 = f0 * ((a - 1) * ix0 - (b - 1) * ix1);
    const value = cdf[r] - c0 * (f0 + density[r]) - c1 * (d0 - slope[r]);
    cdf[r] = Math.min(Math.max(value, 0), 1);
    ratio[r] = rho;
    density[r] = f0;
    slope[r] = d0;
  }
  return kept;
}

/**
 * `stepCdfs` for active candidate r at node g where the density's ratio is not stepped: at the top of its support,
 * in a rough cell, every RESYNC nodes, or where the ratio changes too much between nodes.
 */
function stepExactly(r: number, g: number, regionHi: number, scratch: IntegralScratch): void {
  const { a: as, b: bs, logNorm, cdf, density, slope, ratio, known, grid, lastNode, hi } = scratch;
  const { logX, log1mX, invX, inv1mX, stepLogX, stepLog1mX } = scratch;
  const a = as[r];
  const b = bs[r];
  const x0 = grid[g];
  const x1 = g + 1 < grid.length ? grid[g + 1] : 1;
  const h = x1 - x0;
  const top = g === lastNode[r];
  if (
    x0 <= 0 ||
    x1 >= 1 ||
    (a < 2 && x0 < 8 * h) ||
    (b < 2 && 1 - x1 < 8 * h) ||
    (top && hi[r] >= regionHi)
  ) {
    cdf[r] = betaCdf(a, b, logNorm[r], x0);
    known[r] = 0;
    return;
  }
  const f0 = Math.exp((a - 1) * logX[g] + (b - 1) * log1mX[g] - logNorm[r]);
  const d0 = f0 * ((a - 1) * invX[g] - (b - 1) * inv1mX[g]);
  let value: number;
  if (top) {
    const xh = hi[r];
    const e = xh - x0;
    const fh = Math.exp((a - 1) * Math.log(xh) + (b - 1) * Math.log1p(-xh) - logNorm[r]);
    const dh = fh * ((a - 1) / xh - (b - 1) / (1 - xh));
    value = 1 - 0.5 * e * (f0 + fh) - ((e * e) / 12) * (d0 - dh);
    // The ratio to the node above (inside the grid: a support that reaches the grid's top node is cut there).
    ratio[r] = Math.exp((a - 1) * stepLogX[g] + (b - 1) * stepLog1mX[g]);
    known[r] = f0 > 0 ? 2 : 1;
  } else {
    const state = known[r];
    let f1 = density[r];
    let d1 = slope[r];
    if (state === 0) {
      f1 = Math.exp((a - 1) * logX[g + 1] + (b - 1) * log1mX[g + 1] - logNorm[r]);
      d1 = f1 * ((a - 1) * invX[g + 1] - (b - 1) * inv1mX[g + 1]);
    }
    value = cdf[r] - 0.5 * h * (f0 + f1) - ((h * h) / 12) * (d0 - d1);
    // f0 / f1 when both are exact; f1 may carry the error of the steps since the last exponential.
    ratio[r] = state === 2 ? Math.exp((a - 1) * stepLogX[g] + (b - 1) * stepLog1mX[g]) : f0 / f1;
    known[r] = f1 > 0 && f0 > 0 ? 2 : 1;
  }
  cdf[r] = Math.min(Math.max(value, 0), 1);
  density[r] = f0;
  slope[r] = d0;
}

/** e^t for |t| < SMALL: its Taylor polynomial of degree 10 (relative error below SMALL¹¹/11! ≈ 4.4e-14). */
function nextRatio(t: number): number {
  // Estrin's scheme: the terms in independent pairs, a shorter chain of dependent operations than Horner's.
  const t2 = t * t;
  const t4 = t2 * t2;
  const high = 1 / 24 + t / 120 + t2 * (1 / 720 + t / 5040) + t4 * (1 / 40320 + t / 362880 + t2 / 3628800);
  return 1 + t + t2 * (0.5 + t / 6) + t4 * high;
}

/** Multiplies poly[0..degree] by (1 − q + q·z), truncated at `degree`. */
function multiplyFactor(poly: Float64Array, degree: number, q: number): void {
  const p = 1 - q;
  for (let m = degree; m > 0; m--) poly[m] = poly[m] * p + poly[m - 1] * q;
  poly[0] *= p;
}

/**
 * Multiplies poly[0..degree] by (1 − qᵣ + qᵣ·z) for qᵣ = 1 − F[r] of the `count` candidates r in `which`,
 * truncated at `degree`: four factors at a time, as one quartic, which quarters the passes over the coefficients
 * (each pass keeps the four coefficients below in registers).
 */
function multiplyFactors(
  poly: Float64Array,
  degree: number,
  which: Int32Array,
  count: number,
  F: Float64Array,
): void {
  let m = 0;
  for (; m + 3 < count; m += 4) {
    const p1 = F[which[m]];
    const p2 = F[which[m + 1]];
    const p3 = F[which[m + 2]];
    const p4 = F[which[m + 3]];
    const q1 = 1 - p1;
    const q2 = 1 - p2;
    const q3 = 1 - p3;
    const q4 = 1 - p4;
    // (p1 + q1·z)(p2 + q2·z) = a0 + a1·z + a2·z², and likewise b for factors 3 and 4.
    const a0 = p1 * p2;
    const a1 = p1 * q2 + q1 * p2;
    const a2 = q1 * q2;
    const b0 = p3 * p4;
    const b1 = p3 * q4 + q3 * p4;
    const b2 = q3 * q4;
    const c0 = a0 * b0;
    const c1 = a0 * b1 + a1 * b0;
    const c2 = a0 * b2 + a1 * b1 + a2 * b0;
    const c3 = a1 * b2 + a2 * b1;
    const c4 = a2 * b2;
    let o1 = 0;
    let o2 = 0;
    let o3 = 0;
    let o4 = 0;
    for (let i = 0; i <= degree; i++) {
      const o0 = poly[i];
      poly[i] = c0 * o0 + c1 * o1 + c2 * o2 + c3 * o3 + c4 * o4;
      o4 = o3;
      o3 = o2;
      o2 = o1;
      o1 = o0;
    }
  }
  for (; m < count; m++) multiplyFactor(poly, degree, 1 - F[which[m]]);
}

/** Writes poly[from..from+degree] times (1 − q + q·z), truncated at `degree`, to poly[to..to+degree]. */
function multiplyInto(poly: Float64Array, from: number, to: number, degree: number, q: number): void {
  const p = 1 - q;
  for (let m = degree; m > 0; m--) poly[to + m] = poly[from + m] * p + poly[from + m - 1] * q;
  poly[to] = poly[from] * p;
}

/**
 * P(shown[s] at slot s) for s < k into `out` (at least `floor`), for Thompson sampling over Beta(α, β)
 * posteriors of n candidates.
 */
export function thompsonPropensitiesByIntegration(
  alpha: Float64Array,
  beta: Float64Array,
  n: number,
  shown: Int32Array,
  k: number,
  scratch: IntegralScratch,
  out: Float64Array,
  floor = 1e-4,
  resolution: IntegralResolution = DEFAULT_RESOLUTION,
): IntegralEstimate {
  const { nodesPerSd, maxCells } = resolution;
  scratch.ensure(n, k);
  const {
    lo,
    hi,
    step,
    a: as,
    b: bs,
    firstNode,
    lastNode,
    logNorm,
    active,
    slotOfActive,
    activeOfSlot,
  } = scratch;
  // The region: the union of the shown items' supports, from where fewer than k others can be above x.
  let shownLo = 1;
  let regionHi = 0;
  for (let s = 0; s < k; s++) {
    const j = shown[s];
    const a = alpha[j];
    const b = beta[j];
    const sum = a + b;
    const mean = a / sum;
    const sd = Math.sqrt((a * b) / (sum * sum * (sum + 1)));
    shownLo = Math.min(shownLo, lowerBound(a, b, mean, sd));
    regionHi = Math.max(regionHi, upperBound(a, b, mean, sd));
  }
  const regionLo = regionStart(alpha, beta, n, k, shownLo, scratch);
  regionHi = Math.max(regionHi, regionLo);
  // Classify: left out (always below), always above, or active (stepped through the sweep).
  let above = 0;
  let count = 0;
  const slotOf = scratch.slotOf;
  for (let s = 0; s < k; s++) slotOf[shown[s]] = s + 1;
  for (let j = 0; j < n; j++) {
    const a = alpha[j];
    const b = beta[j];
    const sum = a + b;
    const mean = a / sum;
    const slot = slotOf[j] - 1;
    if (slot < 0) {
      if (mean < regionLo && !insideSupport(sum, mean, regionLo)) continue;
      if (mean > regionHi && !insideSupport(sum, mean, regionHi)) {
        above++;
        continue;
      }
    }
    const sd = Math.sqrt((a * b) / (sum * sum * (sum + 1)));
    const r = count++;
    active[r] = j;
    as[r] = a;
    bs[r] = b;
    slotOfActive[r] = slot;
    if (slot >= 0) {
      activeOfSlot[slot] = r;
      logNorm[r] = logBeta(a, b);
    } else logNorm[r] = Number.NaN;
    // A support bound beyond the region's end is the region's end: one exponent tells, without the search.
    // (lowerBound may fall below regionLo, e.g. 0 where a shape below 1 leaves no Chernoff bound: the region's
    // start bounds it.)
    const low =
      regionLo >= mean || insideSupport(sum, mean, regionLo)
        ? regionLo
        : Math.max(regionLo, lowerBound(a, b, mean, sd));
    const high =
      regionHi <= mean || insideSupport(sum, mean, regionHi) ? regionHi : upperBound(a, b, mean, sd);
    lo[r] = low;
    hi[r] = Math.max(low, Math.min(regionHi, high));
    step[r] = Math.max(sd / nodesPerSd, (hi[r] - low) / maxCells);
  }
  for (let s = 0; s < k; s++) slotOf[shown[s]] = 0;
  const nodes = buildGrid(regionLo, regionHi, count, scratch);
  const grid = scratch.grid;

  // Rounding atoms of the shown items.
  const { atom0, atom1, atoms, lastU, lastE, started, sums, coarseU, coarseE, coarseSums } = scratch;
  const { quarterU, quarterE, quarterSums } = scratch;
  for (let s = 0; s < k; s++) {
    roundingAtoms(alpha[shown[s]], beta[shown[s]], logNorm[activeOfSlot[s]], atoms);
    atom0[s] = atoms[0];
    atom1[s] = atoms[1];
    started[s] = 0;
    sums[s] = 0;
    coarseSums[s] = 0;
    quarterSums[s] = 0;
  }

  // The integrals, node by node from the top: the others' Poisson-binomial polynomial, then each shown item's
  // coefficient. At node g every candidate whose support starts above g is above x (`shift` of them, with the
  // always-above ones), every one whose support ends below g is below it, and only the rest (live) enter the
  // polynomial, truncated at the highest coefficient a slot can read (k − 1 − shift). The sweep ends at the
  // first node where fewer than k others are above x with probability below STOP: the chance only grows
  // smaller further down, so no slot's integrand there exceeds STOP.
  const { startsAfter, live, order } = scratch.sweep(nodes, count);
  startsAfter.fill(0, 0, nodes + 1);
  for (let r = 0; r < count; r++) if (firstNode[r] > 0) startsAfter[Math.min(firstNode[r], nodes) - 1]++;
  for (let g = nodes - 2; g >= 0; g--) startsAfter[g] += startsAfter[g + 1];
  // The others (not shown) in the order their supports end (the grid's order), taken from the highest, swept into
  // and out of the live list.
  const { byEnd } = scratch.gridOrder(count);
  let others = 0;
  for (let m = 0; m < count; m++) {
    const r = byEnd[m];
    if (slotOfActive[r] < 0 && firstNode[r] <= lastNode[r]) order[others++] = r;
  }
  const { prefix, suffix, liveSlots, liveShown, cdf, logX, log1mX, invX, inv1mX, stepLogX, stepLog1mX } =
    scratch;
  const width = k;
  let next = others - 1;
  let liveCount = 0;
  let end = nodes - 1;
  for (let g = nodes - 1; g >= 0; g--) {
    end = g;
    logX[g] = Math.log(grid[g]);
    log1mX[g] = Math.log1p(-grid[g]);
    invX[g] = 1 / grid[g];
    inv1mX[g] = 1 / (1 - grid[g]);
    const h = g + 1 < nodes ? grid[g + 1] - grid[g] : 0;
    stepLogX[g] = h > 0 ? Math.log1p(-h / grid[g + 1]) : 0;
    stepLog1mX[g] = h > 0 ? Math.log1p(h / (1 - grid[g + 1])) : 0;
    while (next >= 0 && lastNode[order[next]] >= g) {
      const r = order[next--];
      logNorm[r] = logBeta(as[r], bs[r]);
      live[liveCount++] = r;
    }
    liveCount = stepCdfs(live, liveCount, g, regionHi, scratch);
    let slotsLive = 0;
    for (let s = 0; s < k; s++) {
      const r = activeOfSlot[s];
      if (g >= firstNode[r] && g <= lastNode[r]) liveSlots[slotsLive++] = s;
    }
    for (let j = 0; j < slotsLive; j++) liveShown[j] = activeOfSlot[liveSlots[j]];
    stepCdfs(liveShown, slotsLive, g, regionHi, scratch);
    if (slotsLive === 0) continue;
    const shift = above + startsAfter[g];
    const top = k - 1 - shift;
    let fewer = 0;
    if (top >= 0) {
      // prefix row j: the others' polynomial times the first j live shown items' factors; suffix row j: the
      // factors of live shown items j.. (row slotsLive is 1).
      prefix[0] = 1;
      for (let m = 1; m <= top; m++) prefix[m] = 0;
      multiplyFactors(prefix, top, live, liveCount, cdf);
      for (let m = 0; m <= top; m++) fewer += prefix[m];
      // (Only rows 0..slotsLive − 1 of the prefix and 1..slotsLive of the suffix are read.)
      for (let j = 0; j + 1 < slotsLive; j++) {
        multiplyInto(prefix, j * width, (j + 1) * width, top, 1 - cdf[activeOfSlot[liveSlots[j]]]);
      }
      const last = slotsLive * width;
      suffix[last] = 1;
      for (let m = 1; m <= top; m++) suffix[last + m] = 0;
      for (let j = slotsLive - 1; j > 0; j--) {
        multiplyInto(suffix, (j + 1) * width, j * width, top, 1 - cdf[activeOfSlot[liveSlots[j]]]);
      }
    }
    const stop = fewer < STOP;
    for (let j = 0; j < slotsLive; j++) {
      const s = liveSlots[j];
      const r = activeOfSlot[s];
      const d = s - shift;
      let e = 0;
      if (d >= 0) {
        const before = j * width;
        const after = (j + 1) * width;
        for (let m = 0; m <= d; m++) e += prefix[before + m] * suffix[after + d - m];
      }
      const u = Math.min(Math.max(cdf[r], atom0[s]), 1 - atom1[s]);
      if (started[s] === 1) {
        sums[s] += (lastU[s] - u) * 0.5 * (e + lastE[s]);
        const ends = g === firstNode[r] || stop;
        if (((lastNode[r] - g) & 1) === 0 || ends) {
          coarseSums[s] += (coarseU[s] - u) * 0.5 * (e + coarseE[s]);
          coarseU[s] = u;
          coarseE[s] = e;
        }
        if (((lastNode[r] - g) & 3) === 0 || ends) {
          quarterSums[s] += (quarterU[s] - u) * 0.5 * (e + quarterE[s]);
          quarterU[s] = u;
          quarterE[s] = e;
        }
      } else {
        started[s] = 1;
        coarseU[s] = u;
        coarseE[s] = e;
        quarterU[s] = u;
        quarterE[s] = e;
      }
      lastU[s] = u;
      lastE[s] = e;
    }
    if (stop) break;
  }
  let unresolved = false;
  for (let s = 0; s < k; s++) {
    // Richardson: the trapezoid rule's error falls with the square of the step, so (4·I_h − I_2h)/3 cancels it.
    const extrapolated = sums[s] + (sums[s] - coarseSums[s]) / 3;
    const p = extrapolated + atomTerms(alpha, beta, n, shown, s, scratch);
    // The same extrapolation a level coarser; where the grid resolves the integrand the two agree to O(h⁴).
    const coarser = coarseSums[s] + (coarseSums[s] - quarterSums[s]) / 3;
    if (Math.abs(extrapolated - coarser) > REFINE_ABS + REFINE_REL * Math.abs(p)) unresolved = true;
    out[s] = Math.max(floor, Math.min(1, p));
  }
  if (unresolved && nodesPerSd < MAX_NODES_PER_SD) {
    const finer = thompsonPropensitiesByIntegration(alpha, beta, n, shown, k, scratch, out, floor, {
      nodesPerSd: 2 * nodesPerSd,
      maxCells: 2 * maxCells,
    });
    return { ...finer, nodes: finer.nodes + nodes };
  }
  return { active: count, nodes, tailBias: 2 * TAIL * n + STOP, end: grid[end] };
}

/**
 * The shown item's probability of slot s from its rounding atoms: at 1.0 it ties with the others at 1.0 and
 * takes a uniformly random place among them; at 0 likewise among the others at 0, below all the rest.
 */
function atomTerms(
  alpha: Float64Array,
  beta: Float64Array,
  n: number,
  shown: Int32Array,
  s: number,
  scratch: IntegralScratch,
): number {
  const { atom0, atom1, atoms } = scratch;
  const item = shown[s];
  let total = 0;
  if (atom1[s] > TAIL) {
    // t others at 1.0: P(slot s) = Σ_{t ≥ s} P(t) / (t + 1), P(t) the Poisson binomial of their atoms at 1.0.
    const ties = scratch.tiePolynomial(n);
    ties[0] = 1;
    let degree = 0;
    for (let j = 0; j < n; j++) {
      if (j === item || !canRoundTo(alpha[j], beta[j], 1)) continue;
      roundingAtoms(alpha[j], beta[j], logBeta(alpha[j], beta[j]), atoms);
      if (atoms[1] <= 0) continue;
      ties[++degree] = 0;
      multiplyFactor(ties, degree, atoms[1]);
    }
    let sum = 0;
    for (let t = s; t <= degree; t++) sum += ties[t] / (t + 1);
    total += atom1[s] * sum;
  }
  if (atom0[s] > TAIL) {
    // c others above 0 and n − 1 − c at 0: slot s when c ≤ s, with probability 1 / (n − c).
    const degree = Math.min(n - 1, s);
    const positive = scratch.tiePolynomial(n);
    positive[0] = 1;
    for (let m = 1; m <= degree; m++) positive[m] = 0;
    for (let j = 0; j < n; j++) {
      if (j === item) continue;
      if (canRoundTo(alpha[j], beta[j], 0)) {
        roundingAtoms(alpha[j], beta[j], logBeta(alpha[j], beta[j]), atoms);
        multiplyFactor(positive, degree, 1 - atoms[0]);
      } else multiplyFactor(positive, degree, 1);
    }
    let sum = 0;
    for (let c = 0; c <= degree; c++) sum += positive[c] / (n - c);
    total += atom0[s] * sum;
  }
  return total;
}

/** False when the Chernoff bound rules out (below 1e-300) that a draw rounds to `value` (0 or 1.0). */
function canRoundTo(a: number, b: number, value: 0 | 1): boolean {
  const mean = a / (a + b);
  return value === 1
    ? chernoffTail(a, b, mean, 1 - 2 ** -54) > 1e-300
    : chernoffLowerTail(a, b, mean, Number.MIN_VALUE) > 1e-300;
}
