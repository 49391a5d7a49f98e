/**
 * A small, fast, seedable pseudo-random generator (sfc32, 128-bit state) so that every sampler, simulation
 * and Monte Carlo estimate in croupier is reproducible from a seed.
 */
export interface Rng {
  /** Uniform on [0, 1) with 32 bits of randomness. */
  next(): number;
  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Standard normal N(0, 1) (polar Box–Muller, the spare value cached). */
  normal(): number;
}

/** splitmix32: spreads a seed over the state words so nearby seeds give unrelated streams. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function createRng(seed = 1): Rng {
  const mix = splitmix32(Number.isFinite(seed) ? Math.floor(seed) : 1);
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  let spare = 0;
  let hasSpare = false;
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) nextUint32();
  const next = (): number => nextUint32() / 4294967296;
  return {
    next,
    nextUint32,
    normal(): number {
      if (hasSpare) {
        hasSpare = false;
        return spare;
      }
      let u = 0;
      let v = 0;
      let s = 0;
      do {
        u = 2 * next() - 1;
        v = 2 * next() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const m = Math.sqrt((-2 * Math.log(s)) / s);
      spare = v * m;
      hasSpare = true;
      return u * m;
    },
  };
}
