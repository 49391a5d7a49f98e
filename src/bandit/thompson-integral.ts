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
 * so both Fᵢ and every step of e_s are resolved; it is summed by the trapezoid rule in u = Fᵢ(x), which stays
 * exact where a density is unbounded (shapes below 1), over every node and over every other node, and the two
 * sums are combined by Richardson extrapolation ((4·I_h − I_2h)/3), which cancels the rule's h² error term:
 * against 24-nodes-per-σ references this is ten times more accurate than the plain rule at twice the nodes.
 * The CDF tables: Fⱼ at the grid nodes of its support, exact at the first node, then cell by cell by the
 * end-corrected trapezoid rule (exact `betaCdf` near 0 or 1 where a shape below 2 makes the density rough).
 *
 * Which candidates are relevant: the region is the union of the shown items' supports [loᵢ, hiᵢ] (Chernoff
 * bounds put at most 1e-8 of each item's mass outside). A candidate whose θ is below the region's start, or
 * above its end, except with probability ≤ 1e-8 (Chernoff again) is left out, or counted as always above;
 * the rest get tables. The bias this adds is at most 2·1e-8 per candidate.
 *
 * Ties: draws that round to exactly 1.0 or 0 are atoms the slate orders uniformly at random (see
 * policies.ts); the continuous part uses Fᵢ clamped to exclude them and the atoms are added exactly.
 */
import { logBeta } from '../stats/special.ts';
import { betaCdf } from './beta-cdf.ts';
import { selectTopK } from './slate.ts';
import { chernoffLowerTail, chernoffTail, roundingAtoms } from './thompson-propensity.ts';

/** Largest probability mass a support bound or a left-out candidate may miss. */
const TAIL = 1e-8;
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
}

/** Buffers reused between calls, grown on demand. */
export class IntegralScratch {
  lo = new Float64Array(64);
  hi = new Float64Array(64);
  step = new Float64Array(64);
  offset = new Int32Array(64);
  logNorm = new Float64Array(64);
  /** Candidate index of each active candidate. */
  active = new Int32Array(64);
  /** Slot of each active candidate in the shown slate, or −1. */
  slotOfActive = new Int32Array(64);
  cdf = new Float64Array(1024);
  grid = new Float64Array(1024);
  logX = new Float64Array(1024);
  log1mX = new Float64Array(1024);
  firstNode = new Int32Array(64);
  lastNode = new Int32Array(64);
  /** Per live shown item j, the prefix and suffix products of the node's polynomial (k coefficients a row). */
  prefix = new Float64Array(16 * 17);
  suffix = new Float64Array(16 * 17);
  liveSlots = new Int32Array(16);
  private startsAfterNodes = new Int32Array(1024);
  private liveCandidates = new Int32Array(64);
  private sweepOrder = new Int32Array(64);
  /** Per slot: the last u, e, whether started, and the running integral. */
  lastU = new Float64Array(16);
  lastE = new Float64Array(16);
  started = new Uint8Array(16);
  sums = new Float64Array(16);
  /** The same integrals over every other node (twice the step), for Richardson extrapolation. */
  coarseU = new Float64Array(16);
  coarseE = new Float64Array(16);
  coarseSums = new Float64Array(16);
  activeOfSlot = new Int32Array(16);
  atoms = new Float64Array(2);
  atom0 = new Float64Array(16);
  atom1 = new Float64Array(16);

  ensure(n: number, k: number): void {
    if (this.lo.length < n) {
      const size = Math.max(n, this.lo.length * 2);
      this.lo = new Float64Array(size);
      this.hi = new Float64Array(size);
      this.step = new Float64Array(size);
      this.offset = new Int32Array(size);
      this.firstNode = new Int32Array(size);
      this.lastNode = new Int32Array(size);
      this.logNorm = new Float64Array(size);
      this.active = new Int32Array(size);
      this.slotOfActive = new Int32Array(size);
    }
    if (this.lastU.length < k + 1) {
      const size = Math.max(k + 1, this.lastU.length * 2);
      this.lastU = new Float64Array(size);
      this.lastE = new Float64Array(size);
      this.started = new Uint8Array(size);
      this.sums = new Float64Array(size);
      this.coarseU = new Float64Array(size);
      this.coarseE = new Float64Array(size);
      this.coarseSums = new Float64Array(size);
      this.activeOfSlot = new Int32Array(size);
      this.atom0 = new Float64Array(size);
      this.atom1 = new Float64Array(size);
      this.prefix = new Float64Array(size * (size + 1));
      this.suffix = new Float64Array(size * (size + 1));
      this.liveSlots = new Int32Array(size);
    }
  }

  /** Buffers of the node sweep over `nodes` grid nodes and `count` active candidates. */
  sweep(nodes: number, count: number): { startsAfter: Int32Array; live: Int32Array; order: Int32Array } {
    if (this.startsAfterNodes.length < nodes + 1) {
      this.startsAfterNodes = new Int32Array(Math.max(nodes + 1, this.startsAfterNodes.length * 2));
    }
    if (this.liveCandidates.length < count) {
      const size = Math.max(count, this.liveCandidates.length * 2);
      this.liveCandidates = new Int32Array(size);
      this.sweepOrder = new Int32Array(size);
    }
    return { startsAfter: this.startsAfterNodes, live: this.liveCandidates, order: this.sweepOrder };
  }

  ensureTables(values: number): void {
    if (this.cdf.length >= values) return;
    const size = Math.max(values, this.cdf.length * 2);
    this.cdf = new Float64Array(size);
  }

  private ties = new Float64Array(64);
  private screen = new Float64Array(64);
  private screenOrder = new Int32Array(64);

  /** Buffers for screening n candidates. */
  screening(n: number): { screen: Float64Array; screenOrder: Int32Array } {
    if (this.screen.length < n) {
      this.screen = new Float64Array(Math.max(n, this.screen.length * 2));
      this.screenOrder = new Int32Array(this.screen.length);
    }
    return { screen: this.screen, screenOrder: this.screenOrder };
  }

  /** A buffer for the Poisson binomial of up to n − 1 tie indicators. */
  tiePolynomial(n: number): Float64Array {
    if (this.ties.length < n + 1) this.ties = new Float64Array(Math.max(n + 1, this.ties.length * 2));
    return this.ties;
  }

  /** ln x and ln(1 − x) at the grid's nodes. */
  gridLogs(nodes: number): { logX: Float64Array; log1mX: Float64Array } {
    if (this.logX.length < nodes) {
      this.logX = new Float64Array(this.grid.length);
      this.log1mX = new Float64Array(this.grid.length);
    }
    return { logX: this.logX, log1mX: this.log1mX };
  }

  ensureGrid(nodes: number): void {
    if (this.grid.length < nodes) {
      const grown = new Float64Array(Math.max(nodes, this.grid.length * 2));
      grown.set(this.grid);
      this.grid = grown;
    }
  }
}

/** Smallest x ≥ μ with P(θ > x) ≤ TAIL by the Chernoff bound (1 when none below 1). */
function upperBound(a: number, b: number, mean: number, sd: number): number {
  let d = 4 * sd;
  for (let i = 0; i < 60; i++) {
    const x = mean + d;
    if (x >= 1) return 1;
    if (chernoffTail(a, b, mean, x) <= TAIL) return x;
    d *= 1.4;
  }
  return 1;
}

/** Largest x ≤ μ with P(θ < x) ≤ TAIL by the Chernoff bound (0 when none above 0). */
function lowerBound(a: number, b: number, mean: number, sd: number): number {
  let d = 4 * sd;
  for (let i = 0; i < 60; i++) {
    const x = mean - d;
    if (x <= 0) return 0;
    if (chernoffLowerTail(a, b, mean, x) <= TAIL) return x;
    d *= 1.4;
  }
  return 0;
}

/**
 * Active candidate r's F at the grid nodes of its support: exact at the first node, then cell by cell by the
 * trapezoid rule with its end correction h²/12·(f′₀ − f′₁) (error O(h⁴); cells are at most half of the
 * candidate's standard deviation), or exactly where a cell is within 8 widths of 0 with α < 2, or of 1 with
 * β < 2 (the density or its derivatives are unbounded there).
 */
function fillCdf(a: number, b: number, r: number, scratch: IntegralScratch): void {
  const { grid, logX, log1mX, cdf, offset, firstNode, lastNode, logNorm } = scratch;
  const first = firstNode[r];
  const last = lastNode[r];
  if (last < first) return;
  const ln = logNorm[r];
  const base = offset[r];
  cdf[base + first] = betaCdf(a, b, ln, grid[first]);
  let f0 = 0;
  let d0 = 0;
  let known = false;
  for (let g = first; g < last; g++) {
    const x0 = grid[g];
    const x1 = grid[g + 1];
    const h = x1 - x0;
    if ((a < 2 && x0 < 8 * h) || (b < 2 && 1 - x1 < 8 * h) || x0 <= 0 || x1 >= 1) {
      cdf[base + g + 1] = betaCdf(a, b, ln, x1);
      known = false;
      continue;
    }
    if (!known) {
      f0 = Math.exp((a - 1) * logX[g] + (b - 1) * log1mX[g] - ln);
      d0 = f0 * ((a - 1) / x0 - (b - 1) / (1 - x0));
    }
    const f1 = Math.exp((a - 1) * logX[g + 1] + (b - 1) * log1mX[g + 1] - ln);
    const d1 = f1 * ((a - 1) / x1 - (b - 1) / (1 - x1));
    const value = cdf[base + g] + 0.5 * h * (f0 + f1) + ((h * h) / 12) * (d0 - d1);
    cdf[base + g + 1] = Math.min(Math.max(value, 0), 1);
    f0 = f1;
    d0 = d1;
    known = true;
  }
}

/** Multiplies poly[0..degree] by (1 − q + q·z), truncated at `degree`. */
function multiplyFactor(poly: Float64Array, degree: number, q: number): void {
  const p = 1 - q;
  for (let m = degree; m > 0; m--) poly[m] = poly[m] * p + poly[m - 1] * q;
  poly[0] *= p;
}

/** `multiplyFactor` on the polynomial stored at `at`. */
function multiplyFactorAt(poly: Float64Array, at: number, degree: number, q: number): void {
  const p = 1 - q;
  for (let m = at + degree; m > at; m--) poly[m] = poly[m] * p + poly[m - 1] * q;
  poly[at] *= p;
}

/** Sorts order[0..n−1] by firstNode (insertion sort: the candidates come nearly in order of their supports). */
function sortByFirstNode(order: Int32Array, n: number, firstNode: Int32Array): void {
  for (let i = 1; i < n; i++) {
    const r = order[i];
    const key = firstNode[r];
    let j = i - 1;
    while (j >= 0 && firstNode[order[j]] > key) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = r;
  }
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
  const { lo, hi, step, offset, firstNode, lastNode, logNorm, active, slotOfActive, activeOfSlot } = scratch;
  // The region: the union of the shown items' supports.
  let regionLo = 1;
  let regionHi = 0;
  for (let s = 0; s < k; s++) {
    const j = shown[s];
    const a = alpha[j];
    const b = beta[j];
    const sum = a + b;
    const mean = a / sum;
    const sd = Math.sqrt((a * b) / (sum * sum * (sum + 1)));
    regionLo = Math.min(regionLo, lowerBound(a, b, mean, sd));
    regionHi = Math.max(regionHi, upperBound(a, b, mean, sd));
  }
  // Below the (k+1)-th largest lower support bound, at least k others are above x (but for ≤ 1e-8 each):
  // every slot's integrand vanishes there. Screen by μ − 6σ, then bound the best 2(k + 1) exactly.
  const screened = Math.min(n, 2 * (k + 1));
  if (n > k + 1) {
    const { screen, screenOrder } = scratch.screening(n);
    for (let j = 0; j < n; j++) {
      const a = alpha[j];
      const b = beta[j];
      const sum = a + b;
      screen[j] = a / sum - 6 * Math.sqrt((a * b) / (sum * sum * (sum + 1)));
    }
    selectTopK(screen, null, n, screened, screenOrder);
    for (let m = 0; m < screened; m++) {
      const j = screenOrder[m];
      const a = alpha[j];
      const b = beta[j];
      const sum = a + b;
      screen[m] = lowerBound(a, b, a / sum, Math.sqrt((a * b) / (sum * sum * (sum + 1))));
    }
    selectTopK(screen, null, screened, k + 1, screenOrder);
    regionLo = Math.max(regionLo, screen[screenOrder[k]]);
  }
  regionHi = Math.max(regionHi, regionLo);
  // Classify: left out (always below), always above, or active (a CDF table over the grid).
  let above = 0;
  let count = 0;
  for (let j = 0; j < n; j++) {
    const a = alpha[j];
    const b = beta[j];
    const sum = a + b;
    const mean = a / sum;
    let slot = -1;
    for (let s = 0; s < k; s++) if (shown[s] === j) slot = s;
    if (slot < 0) {
      if (mean < regionLo && chernoffTail(a, b, mean, regionLo) <= TAIL) continue;
      if (mean > regionHi && chernoffLowerTail(a, b, mean, regionHi) <= TAIL) {
        above++;
        continue;
      }
    }
    const sd = Math.sqrt((a * b) / (sum * sum * (sum + 1)));
    const r = count++;
    active[r] = j;
    slotOfActive[r] = slot;
    if (slot >= 0) activeOfSlot[slot] = r;
    const low = Math.max(regionLo, lowerBound(a, b, mean, sd));
    lo[r] = low;
    hi[r] = Math.max(low, Math.min(regionHi, upperBound(a, b, mean, sd)));
    step[r] = Math.max(sd / nodesPerSd, (hi[r] - low) / maxCells);
    logNorm[r] = logBeta(a, b);
  }
  // The grid: from the region's start to its end, each step the finest step of the candidates there.
  let nodes = 0;
  let x = regionLo;
  for (;;) {
    scratch.ensureGrid(nodes + 1);
    scratch.grid[nodes++] = x;
    if (x >= regionHi) break;
    let h = regionHi - x;
    for (let r = 0; r < count; r++) {
      if (x >= lo[r] && x < hi[r] && step[r] < h) h = step[r];
      // Never step more than one of its own cells past the start of a support: a candidate far above the rest
      // would otherwise get no node inside its support, and its probability mass would be lost.
      else if (lo[r] > x && x + h > lo[r] + step[r]) h = lo[r] - x;
    }
    x = x + h >= regionHi - 1e-3 * h ? regionHi : x + h;
  }
  const grid = scratch.grid;
  const { logX, log1mX } = scratch.gridLogs(nodes);
  for (let g = 0; g < nodes; g++) {
    logX[g] = Math.log(grid[g]);
    log1mX[g] = Math.log1p(-grid[g]);
  }
  // CDF tables: each active candidate's F at the grid nodes of its support.
  let values = 0;
  for (let r = 0; r < count; r++) {
    let first = 0;
    while (first < nodes && grid[first] < lo[r]) first++;
    let last = first - 1;
    while (last + 1 < nodes && grid[last + 1] <= hi[r]) last++;
    firstNode[r] = first;
    lastNode[r] = last;
    offset[r] = values - first;
    values += Math.max(0, last - first + 1);
  }
  scratch.ensureTables(values);
  for (let r = 0; r < count; r++) fillCdf(alpha[active[r]], beta[active[r]], r, scratch);
  const cdf = scratch.cdf;

  // Rounding atoms of the shown items.
  const { atom0, atom1, atoms, lastU, lastE, started, sums, coarseU, coarseE, coarseSums } = scratch;
  for (let s = 0; s < k; s++) {
    const j = shown[s];
    roundingAtoms(alpha[j], beta[j], logNorm[activeOfSlot[s]], atoms);
    atom0[s] = atoms[0];
    atom1[s] = atoms[1];
    started[s] = 0;
    sums[s] = 0;
    coarseSums[s] = 0;
  }

  // The integrals, node by node: the others' Poisson-binomial polynomial, then each shown item's coefficient.
  // At node g every candidate whose support starts above g is above x (`shift` of them, with the always-above
  // ones), every one whose support ended below g is below it, and only the rest (live) enter the polynomial,
  // truncated at the highest coefficient a slot can read (k − 1 − shift).
  const { startsAfter, live, order } = scratch.sweep(nodes, count);
  startsAfter.fill(0, 0, nodes + 1);
  for (let r = 0; r < count; r++) if (firstNode[r] > 0) startsAfter[Math.min(firstNode[r], nodes) - 1]++;
  for (let g = nodes - 2; g >= 0; g--) startsAfter[g] += startsAfter[g + 1];
  // The others (not shown) in the order their supports start, swept into and out of the live list.
  let others = 0;
  for (let r = 0; r < count; r++) if (slotOfActive[r] < 0 && firstNode[r] <= lastNode[r]) order[others++] = r;
  sortByFirstNode(order, others, firstNode);
  let next = 0;
  let liveCount = 0;
  const { prefix, suffix, liveSlots } = scratch;
  const width = k;
  for (let g = 0; g < nodes; g++) {
    while (next < others && firstNode[order[next]] <= g) live[liveCount++] = order[next++];
    let kept = 0;
    for (let m = 0; m < liveCount; m++) if (lastNode[live[m]] >= g) live[kept++] = live[m];
    liveCount = kept;
    let slotsLive = 0;
    for (let s = 0; s < k; s++) {
      const r = activeOfSlot[s];
      if (g >= firstNode[r] && g <= lastNode[r]) liveSlots[slotsLive++] = s;
    }
    if (slotsLive === 0) continue;
    const shift = above + startsAfter[g];
    const top = k - 1 - shift;
    if (top >= 0) {
      // prefix row j: the others' polynomial times the first j live shown items' factors; suffix row j: the
      // factors of live shown items j.. (row slotsLive is 1).
      prefix[0] = 1;
      for (let m = 1; m <= top; m++) prefix[m] = 0;
      for (let m = 0; m < liveCount; m++) multiplyFactor(prefix, top, 1 - cdf[offset[live[m]] + g]);
      for (let j = 0; j < slotsLive; j++) {
        const row = j * width;
        for (let m = 0; m <= top; m++) prefix[row + width + m] = prefix[row + m];
        const q = 1 - cdf[offset[activeOfSlot[liveSlots[j]]] + g];
        multiplyFactorAt(prefix, row + width, top, q);
      }
      const last = slotsLive * width;
      suffix[last] = 1;
      for (let m = 1; m <= top; m++) suffix[last + m] = 0;
      for (let j = slotsLive - 1; j >= 0; j--) {
        const row = j * width;
        for (let m = 0; m <= top; m++) suffix[row + m] = suffix[row + width + m];
        const q = 1 - cdf[offset[activeOfSlot[liveSlots[j]]] + g];
        multiplyFactorAt(suffix, row, top, q);
      }
    }
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
      const u = Math.min(Math.max(cdf[offset[r] + g], atom0[s]), 1 - atom1[s]);
      if (started[s] === 1) {
        sums[s] += (u - lastU[s]) * 0.5 * (e + lastE[s]);
        if (((g - firstNode[r]) & 1) === 0 || g === lastNode[r]) {
          coarseSums[s] += (u - coarseU[s]) * 0.5 * (e + coarseE[s]);
          coarseU[s] = u;
          coarseE[s] = e;
        }
      } else {
        started[s] = 1;
        coarseU[s] = u;
        coarseE[s] = e;
      }
      lastU[s] = u;
      lastE[s] = e;
    }
  }
  for (let s = 0; s < k; s++) {
    // Richardson: the trapezoid rule's error falls with the square of the step, so (4·I_h − I_2h)/3 cancels it.
    const p = sums[s] + (sums[s] - coarseSums[s]) / 3 + atomTerms(alpha, beta, n, shown, s, scratch);
    out[s] = Math.max(floor, Math.min(1, p));
  }
  return { active: count, nodes, tailBias: 2 * TAIL * n };
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
