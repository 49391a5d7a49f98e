/**
 * Buffers of the Thompson propensity integral (thompson-integral.ts), reused between calls and grown on demand:
 * per active candidate (support, grid nodes, the CDF as the sweep steps it), per grid node, per slot.
 */
export class IntegralScratch {
  lo = new Float64Array(64);
  hi = new Float64Array(64);
  step = new Float64Array(64);
  /** α and β of each active candidate. */
  a = new Float64Array(64);
  b = new Float64Array(64);
  /** ln B(α, β) of each active candidate, once it is needed. */
  logNorm = new Float64Array(64);
  /** Candidate index of each active candidate. */
  active = new Int32Array(64);
  /** Per candidate, its slot in the shown slate plus one (0: not shown); all 0 between calls. */
  slotOf = new Int32Array(64);
  /** Slot of each active candidate in the shown slate, or −1. */
  slotOfActive = new Int32Array(64);
  firstNode = new Int32Array(64);
  lastNode = new Int32Array(64);
  /** The sweep's state per active candidate: F, its density and the density's slope at the current node. */
  cdf = new Float64Array(64);
  density = new Float64Array(64);
  slope = new Float64Array(64);
  /** The density's ratio between the last node and the one above it. */
  ratio = new Float64Array(64);
  /**
   * 1 when `density` and `slope` hold the values at the node above the current one, 2 when `ratio` holds the
   * ratio there too.
   */
  known = new Uint8Array(64);
  grid = new Float64Array(1024);
  /** ln x, ln(1 − x), 1/x and 1/(1 − x) at the grid's nodes, as the sweep reaches them. */
  logX = new Float64Array(1024);
  log1mX = new Float64Array(1024);
  invX = new Float64Array(1024);
  inv1mX = new Float64Array(1024);
  /** ln(x_g / x_g+1) and ln((1 − x_g) / (1 − x_g+1)) between each node and the next. */
  stepLogX = new Float64Array(1024);
  stepLog1mX = new Float64Array(1024);
  /** Per live shown item j, the prefix and suffix products of the node's polynomial (k coefficients a row). */
  prefix = new Float64Array(16 * 17);
  suffix = new Float64Array(16 * 17);
  liveSlots = new Int32Array(16);
  /** The active candidates of the live slots. */
  liveShown = new Int32Array(16);
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
  /** And over every fourth node, to tell whether the extrapolation holds (Romberg's next column). */
  quarterU = new Float64Array(16);
  quarterE = new Float64Array(16);
  quarterSums = new Float64Array(16);
  activeOfSlot = new Int32Array(16);
  atoms = new Float64Array(2);
  atom0 = new Float64Array(16);
  atom1 = new Float64Array(16);
  private bucketCounts = new Int32Array(65);
  private bucketCopy = new Int32Array(64);
  private byStart = new Int32Array(64);
  private byEnd = new Int32Array(64);
  private finest = new Int32Array(64);
  private ties = new Float64Array(64);
  private screen = new Float64Array(64);
  private screenOrder = new Int32Array(64);

  ensure(n: number, k: number): void {
    if (this.lo.length < n) {
      const size = Math.max(n, this.lo.length * 2);
      this.lo = new Float64Array(size);
      this.hi = new Float64Array(size);
      this.step = new Float64Array(size);
      this.a = new Float64Array(size);
      this.b = new Float64Array(size);
      this.firstNode = new Int32Array(size);
      this.lastNode = new Int32Array(size);
      this.logNorm = new Float64Array(size);
      this.active = new Int32Array(size);
      this.slotOfActive = new Int32Array(size);
      this.slotOf = new Int32Array(size);
      this.cdf = new Float64Array(size);
      this.density = new Float64Array(size);
      this.slope = new Float64Array(size);
      this.ratio = new Float64Array(size);
      this.known = new Uint8Array(size);
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
      this.quarterU = new Float64Array(size);
      this.quarterE = new Float64Array(size);
      this.quarterSums = new Float64Array(size);
      this.activeOfSlot = new Int32Array(size);
      this.atom0 = new Float64Array(size);
      this.atom1 = new Float64Array(size);
      this.prefix = new Float64Array(size * (size + 1));
      this.suffix = new Float64Array(size * (size + 1));
      this.liveSlots = new Int32Array(size);
      this.liveShown = new Int32Array(size);
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

  /** Buffers of a bucket sort of n candidates. */
  buckets(n: number): { counts: Int32Array; copy: Int32Array } {
    if (this.bucketCopy.length < n) {
      this.bucketCopy = new Int32Array(Math.max(n, this.bucketCopy.length * 2));
      this.bucketCounts = new Int32Array(this.bucketCopy.length + 1);
    }
    return { counts: this.bucketCounts, copy: this.bucketCopy };
  }

  /** Buffers of the grid's construction over `count` active candidates. */
  gridOrder(count: number): { byStart: Int32Array; byEnd: Int32Array; heap: Int32Array } {
    if (this.byStart.length < count) {
      this.byStart = new Int32Array(Math.max(count, this.byStart.length * 2));
      this.byEnd = new Int32Array(this.byStart.length);
      this.finest = new Int32Array(this.byStart.length);
    }
    return { byStart: this.byStart, byEnd: this.byEnd, heap: this.finest };
  }

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

  ensureGrid(nodes: number): void {
    if (this.grid.length < nodes) {
      const grown = new Float64Array(Math.max(nodes, this.grid.length * 2));
      grown.set(this.grid);
      this.grid = grown;
      this.logX = new Float64Array(grown.length);
      this.log1mX = new Float64Array(grown.length);
      this.invX = new Float64Array(grown.length);
      this.inv1mX = new Float64Array(grown.length);
      this.stepLogX = new Float64Array(grown.length);
      this.stepLog1mX = new Float64Array(grown.length);
    }
  }
}
