import { describe, expect, it } from 'vitest';
import { sampleBeta, sampleGamma } from '../../src/stats/beta-sampler.ts';
import { createRng, type Rng, Sfc32, ZIGGURAT } from '../../src/stats/rng.ts';
import { betaInc, gammaP, normalCdf } from '../../src/stats/special.ts';
import { ksTest } from './ks.ts';

const N = 20_000;

/** The same generator seen only through the `Rng` interface, so the sampler takes its generic path. */
function interfaceOnly(seed: number): Rng {
  const inner = createRng(seed);
  return { next: () => inner.next(), nextUint32: () => inner.nextUint32(), normal: () => inner.normal() };
}

function draw(n: number, f: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f();
  return out;
}

function moments(x: Float64Array): { mean: number; variance: number } {
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let s = 0;
  for (const v of x) s += (v - m) ** 2;
  return { mean: m, variance: s / (x.length - 1) };
}

const SHAPES: Array<[number, number]> = [
  [1, 1],
  [2, 5],
  [3, 97],
  [0.5, 0.5],
  [0.1, 0.3],
  [0.05, 2],
  [0.7, 1500],
  [120, 4000],
  [1e4, 3e4],
];

describe('createRng', () => {
  it('replays the same stream from the same seed and a different one from another seed', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = draw(100, () => a.nextUint32());
    expect(draw(100, () => b.nextUint32())).toEqual(xs);
    expect(draw(100, () => c.nextUint32())).not.toEqual(xs);
  });

  it('builds a ziggurat whose 256 layers all have the same area', () => {
    const { x, f } = ZIGGURAT;
    const area = x[0] * f[1];
    for (let i = 1; i < 256; i++) expect(Math.abs((x[i] * (f[i + 1] - f[i])) / area - 1)).toBeLessThan(1e-8);
    expect(x[256]).toBe(0);
  });

  it('draws standard normals that pass a Kolmogorov–Smirnov test, tails included', () => {
    const rng = createRng(7);
    const z = draw(200_000, () => rng.normal());
    const { mean, variance } = moments(z);
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(z.length));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / z.length));
    expect(ksTest(z, normalCdf).pValue).toBeGreaterThan(0.001);
    // Beyond the base layer's edge R = 3.654 lies the exactly sampled tail: 2·(1 − Φ(R)) of the mass.
    const tail = z.filter((v) => Math.abs(v) > 3.654152885361009).length;
    const expected = 2 * (1 - normalCdf(3.654152885361009)) * z.length;
    expect(Math.abs(tail - expected)).toBeLessThan(5 * Math.sqrt(expected));
  });
});

describe('sampleBeta', () => {
  for (const [alpha, beta] of SHAPES) {
    for (const [path, makeRng] of [
      ['sfc32 fast path', (seed: number): Rng => createRng(seed)],
      ['generic Rng path', interfaceOnly],
    ] as const) {
      it(`matches Beta(${alpha}, ${beta}) in mean, variance and the exact CDF (${path})`, () => {
        const rng = makeRng(1000 + alpha * 7 + beta);
        const x = draw(N, () => sampleBeta(rng, alpha, beta));
        const m = alpha / (alpha + beta);
        const v = (alpha * beta) / ((alpha + beta) ** 2 * (alpha + beta + 1));
        const got = moments(x);
        expect(Math.abs(got.mean - m)).toBeLessThan(5 * Math.sqrt(v / N));
        // The sample variance's standard error, from the fourth central moment bounded by 3 v² + v/…; a 15%
        // band is > 5 standard errors at N = 20 000 for every shape here, U-shaped ones included.
        expect(Math.abs(got.variance / v - 1)).toBeLessThan(0.15);
        expect(Math.min(...x)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...x)).toBeLessThanOrEqual(1);
        expect(ksTest(x, (t) => betaInc(alpha, beta, t)).pValue).toBeGreaterThan(0.001);
      });
    }
  }

  it('has the power to reject a slightly wrong distribution (the test above is not a formality)', () => {
    const rng = createRng(5);
    const x = draw(N, () => sampleBeta(rng, 3, 97));
    expect(ksTest(x, (t) => betaInc(3.3, 97, t)).pValue).toBeLessThan(1e-6);
  });

  it('keeps tiny shapes finite: Beta(0.001, 0.001) puts half its draws near 0 and half near 1', () => {
    const rng = createRng(11);
    const x = draw(N, () => sampleBeta(rng, 0.001, 0.001));
    expect(x.some(Number.isNaN)).toBe(false);
    const low = x.filter((v) => v < 0.5).length;
    expect(Math.abs(low - N / 2)).toBeLessThan(5 * Math.sqrt(N / 4));
  });

  it('takes the same draws through the class whether the generator is fresh or reused', () => {
    const a = createRng(3);
    const first = draw(1000, () => sampleBeta(a, 2.5, 40));
    const b = new Sfc32(3);
    expect(draw(1000, () => sampleBeta(b, 2.5, 40))).toEqual(first);
  });

  it('rejects shapes that are not finite and positive, naming the argument', () => {
    const rng = createRng(1);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => sampleBeta(rng, bad, 2)).toThrow(
        expect.objectContaining({ code: 'CROUPIER_ERR_STATS_INVALID_ARGUMENT' }),
      );
      expect(() => sampleBeta(rng, 2, bad)).toThrow(/beta/);
    }
  });
});

describe('sampleGamma', () => {
  for (const shape of [0.2, 1, 3.5, 250]) {
    it(`matches Gamma(${shape}) in mean, variance and the exact CDF`, () => {
      const rng = createRng(shape * 100);
      const x = draw(N, () => sampleGamma(rng, shape));
      const got = moments(x);
      expect(Math.abs(got.mean - shape)).toBeLessThan(5 * Math.sqrt(shape / N));
      expect(Math.abs(got.variance / shape - 1)).toBeLessThan(0.15);
      expect(ksTest(x, (t) => gammaP(shape, t)).pValue).toBeGreaterThan(0.001);
    });
  }

  it('rejects a shape of 0', () => {
    expect(() => sampleGamma(createRng(1), 0)).toThrow(/shape/);
  });
});
