/**
 * Type I error and power by seeded simulation: draw many experiments under the null and under the alternative,
 * run the test on each, and count rejections. Used to show that a test holds its level and that the analytic
 * power figures are right.
 */
import { binomial } from './distributions/discrete.ts';
import { checkPositive, checkProbability, invalidArgument } from './errors.ts';
import { createRng, type Rng } from './rng.ts';
import { normalQuantile } from './special.ts';

export interface ErrorRateSimulation<A extends unknown[]> {
  /** Draws the arguments of one test (samples, or counts) when the null hypothesis holds. */
  drawNull: (rng: Rng) => A;
  /** Draws them when the alternative holds; omit to estimate the type I error only. */
  drawAlternative?: (rng: Rng) => A;
  /** The test: any function returning a p-value. */
  test: (...args: A) => { pValue: number };
  /** Significance level (default 0.05). */
  alpha?: number;
  /** Simulated experiments per hypothesis (default 2000). */
  iterations?: number;
  /** Seed of the random stream (default 1): the same seed gives the same estimates. */
  seed?: number;
  /** Confidence of the Wilson intervals of the estimated rates (default 0.95). */
  confidence?: number;
}

export interface RateEstimate {
  rate: number;
  /** Wilson score interval of the rate. */
  ci: [number, number];
  rejections: number;
  iterations: number;
}

export interface ErrorRates {
  alpha: number;
  /** Share of null experiments the test rejected: should be close to alpha. */
  typeIError: RateEstimate;
  /** Share of alternative experiments the test rejected. */
  power?: RateEstimate;
}

function wilson(k: number, n: number, confidence: number): [number, number] {
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = k / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

function estimate<A extends unknown[]>(
  draw: (rng: Rng) => A,
  test: (...args: A) => { pValue: number },
  rng: Rng,
  iterations: number,
  alpha: number,
  confidence: number,
): RateEstimate {
  let rejections = 0;
  for (let i = 0; i < iterations; i++) {
    if (test(...draw(rng)).pValue <= alpha) rejections++;
  }
  return {
    rate: rejections / iterations,
    ci: wilson(rejections, iterations, confidence),
    rejections,
    iterations,
  };
}

/** Estimates the type I error (and the power, given `drawAlternative`) of a test by simulation. */
export function simulateErrorRates<A extends unknown[]>(spec: ErrorRateSimulation<A>): ErrorRates {
  if (typeof spec?.drawNull !== 'function')
    invalidArgument('drawNull', 'must be a function drawing one experiment');
  if (typeof spec.test !== 'function') invalidArgument('test', 'must be a function returning { pValue }');
  const alpha = spec.alpha ?? 0.05;
  checkProbability('alpha', alpha, true);
  const iterations = spec.iterations ?? 2000;
  if (!Number.isInteger(iterations) || iterations < 1)
    invalidArgument('iterations', `is ${iterations}: use a positive integer`);
  const confidence = spec.confidence ?? 0.95;
  checkProbability('confidence', confidence, true);
  const rng = createRng(spec.seed ?? 1);
  const result: ErrorRates = {
    alpha,
    typeIError: estimate(spec.drawNull, spec.test, rng, iterations, alpha, confidence),
  };
  if (spec.drawAlternative) {
    result.power = estimate(spec.drawAlternative, spec.test, rng, iterations, alpha, confidence);
  }
  return result;
}

/** Draws for a two-sample test on continuous data: normal samples of sizes n1 and n1·ratio, means apart by d·sd. */
export function twoMeansScenario(params: { effectSize: number; n1: number; ratio?: number; sd?: number }): {
  drawNull: (rng: Rng) => [Float64Array, Float64Array];
  drawAlternative: (rng: Rng) => [Float64Array, Float64Array];
} {
  const n1 = params.n1;
  if (!Number.isInteger(n1) || n1 < 2) invalidArgument('n1', `is ${n1}: use an integer of at least 2`);
  const n2 = Math.round(n1 * (params.ratio ?? 1));
  const sd = params.sd ?? 1;
  checkPositive('sd', sd);
  const draw = (rng: Rng, shift: number): [Float64Array, Float64Array] => {
    const x = new Float64Array(n1);
    const y = new Float64Array(n2);
    for (let i = 0; i < n1; i++) x[i] = shift + sd * rng.normal();
    for (let i = 0; i < n2; i++) y[i] = sd * rng.normal();
    return [x, y];
  };
  return { drawNull: (rng) => draw(rng, 0), drawAlternative: (rng) => draw(rng, params.effectSize * sd) };
}

/** Draws for a two-proportion test: [successes], [trials] with p2 in both groups (null) or p1 vs p2 (alternative). */
export function twoProportionsScenario(params: { p1: number; p2: number; n1: number; ratio?: number }): {
  drawNull: (rng: Rng) => [[number, number], [number, number]];
  drawAlternative: (rng: Rng) => [[number, number], [number, number]];
} {
  const n1 = params.n1;
  if (!Number.isInteger(n1) || n1 < 1) invalidArgument('n1', `is ${n1}: use a positive integer`);
  const n2 = Math.round(n1 * (params.ratio ?? 1));
  const g1Null = binomial({ n: n1, p: params.p2 });
  const g1Alt = binomial({ n: n1, p: params.p1 });
  const g2 = binomial({ n: n2, p: params.p2 });
  return {
    drawNull: (rng) => [
      [g1Null.sample(rng), g2.sample(rng)],
      [n1, n2],
    ],
    drawAlternative: (rng) => [
      [g1Alt.sample(rng), g2.sample(rng)],
      [n1, n2],
    ],
  };
}
