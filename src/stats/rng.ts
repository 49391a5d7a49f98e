/**
 * A small, fast, seedable pseudo-random generator (sfc32, 128-bit state) so that every sampler, simulation
 * and Monte Carlo estimate in croupier is reproducible from a seed. Normals come from a 256-layer ziggurat
 * (Marsaglia & Tsang 2000, with Doornik's separate layer index), which needs two 32-bit words and no
 * transcendental function on 98.5% of draws.
 */
export interface Rng {
  /** Uniform on [0, 1) with 32 bits of randomness. */
  next(): number;
  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Standard normal N(0, 1). */
  normal(): number;
}

/** Layers of the ziggurat and the right edge of its base layer (Marsaglia & Tsang 2000, 256 layers). */
const ZIGGURAT_LAYERS = 256;
const ZIGGURAT_R = 3.654152885361009;
const ZIGGURAT_AREA = 0.00492867323399;
const TWO_POW_MINUS_32 = 1 / 4294967296;
/** 2^-52: turns 53 random bits (an integer in [0, 2^53)) into a uniform on [-1, 1). */
const TWO_POW_MINUS_52 = 2 ** -52;

/** The ziggurat's layer edges `x`, the fast-accept ratios `x[i+1] / x[i]` and the density at each edge. */
export interface ZigguratTables {
  readonly x: Float64Array;
  readonly ratio: Float64Array;
  readonly f: Float64Array;
}

function buildZigguratTables(): ZigguratTables {
  const n = ZIGGURAT_LAYERS;
  const x = new Float64Array(n + 1);
  const f = new Float64Array(n + 1);
  const ratio = new Float64Array(n);
  const density = (t: number): number => Math.exp(-0.5 * t * t);
  x[0] = ZIGGURAT_AREA / density(ZIGGURAT_R);
  x[1] = ZIGGURAT_R;
  for (let i = 2; i < n; i++) x[i] = Math.sqrt(-2 * Math.log(ZIGGURAT_AREA / x[i - 1] + density(x[i - 1])));
  x[n] = 0;
  for (let i = 0; i <= n; i++) f[i] = density(x[i]);
  for (let i = 0; i < n; i++) ratio[i] = x[i + 1] / x[i];
  return { x, ratio, f };
}

/**
 * The ziggurat's tables: 3 × 257 constants computed once when the module loads (pure arithmetic, no I/O),
 * so the JIT sees fixed arrays of known length and drops the bounds checks from the sampling loops.
 */
export const ZIGGURAT: ZigguratTables = buildZigguratTables();
const ZIGGURAT_X = ZIGGURAT.x;
const ZIGGURAT_RATIO = ZIGGURAT.ratio;
const ZIGGURAT_F = ZIGGURAT.f;

/**
 * sfc32 (Chris Doty-Humphrey's small fast chaotic generator) as a class, so that calls on it are
 * monomorphic and inlined by the JIT. The state lives in four public int32 fields `a b c d` so that a hot
 * sampler (the Beta sampler) can run the step on locals and store the state back once per draw.
 */
export class Sfc32 implements Rng {
  a: number;
  b: number;
  c: number;
  d: number;

  constructor(seed: number) {
    // splitmix32 spreads the seed over the state words so nearby seeds give unrelated streams.
    let s = (Number.isFinite(seed) ? Math.floor(seed) : 1) >>> 0;
    const mix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) | 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.nextInt32();
  }

  /** One sfc32 step as a signed 32-bit integer (the same bits as `nextUint32`). */
  nextInt32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const t = (((a + b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t;
  }

  nextUint32(): number {
    return this.nextInt32() >>> 0;
  }

  next(): number {
    return (this.nextInt32() >>> 0) * TWO_POW_MINUS_32;
  }

  /**
   * Ziggurat normal: the first word and the top 21 bits of the second make a 53-bit uniform u on [-1, 1);
   * the low 8 bits of the second pick the layer, so value and layer never share bits.
   */
  normal(): number {
    const hi = this.nextInt32() >>> 0;
    const lo = this.nextInt32();
    const i = lo & 0xff;
    const u = (hi * 2097152 + (lo >>> 11)) * TWO_POW_MINUS_52 - 1;
    if (Math.abs(u) < ZIGGURAT_RATIO[i]) return u * ZIGGURAT_X[i];
    return this.normalBeyondFastTest(u, i);
  }

  /**
   * Finishes a ziggurat draw whose fast test failed (|u| ≥ x[i+1] / x[i]): the wedge of layer i, or the
   * tail when i = 0. A rejected wedge point starts a fresh draw. Samplers that inline the fast test call this.
   */
  normalBeyondFastTest(u: number, i: number): number {
    if (i === 0) return this.normalTail(u < 0);
    const x = u * ZIGGURAT_X[i];
    const f0 = ZIGGURAT_F[i];
    const f1 = ZIGGURAT_F[i + 1];
    if (f0 + this.next() * (f1 - f0) < Math.exp(-0.5 * x * x)) return x;
    return this.normal();
  }

  /** Marsaglia's exact sampler of the normal tail beyond R, the sign given. */
  normalTail(negative: boolean): number {
    let x = 0;
    let y = 0;
    do {
      x = -Math.log(1 - this.next()) / ZIGGURAT_R;
      y = -Math.log(1 - this.next());
    } while (y + y < x * x);
    return negative ? -(ZIGGURAT_R + x) : ZIGGURAT_R + x;
  }
}

export function createRng(seed = 1): Rng {
  return new Sfc32(seed);
}
