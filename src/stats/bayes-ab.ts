/**
 * Bayesian A/B analysis of binomial outcomes (clicks of impressions, conversions of visitors): each variant's
 * rate gets a Beta posterior from a Beta prior, and the decision quantities follow from those posteriors:
 *
 * - P(variant j is best) = ∫ f_j(x) Π_{k≠j} F_k(x) dx
 * - expected loss of choosing j, E[max_k p_k − p_j] = ∫ F_j(t) (1 − Π_{k≠j} F_k(t)) dt (no cancellation)
 * - the posterior of the relative lift p_j / p_c − 1 against the control: P(lift ≤ t) = ∫ f_c(x) F_j((1+t)x) dx
 *
 * By default these one-dimensional integrals are computed exactly (to ~1e-10) by tanh-sinh quadrature, for
 * two variants or more; `method: 'monte-carlo'` estimates P(best) and the expected loss from seeded
 * posterior draws instead (what large numbers of variants may prefer).
 */
import { integratePiecewise } from './bayes-ab-quadrature.ts';
import { sampleBeta } from './beta-sampler.ts';
import { beta as betaDistribution } from './distributions/continuous.ts';
import type { ContinuousDistribution } from './distributions/distribution.ts';
import { checkConfidence, checkPositive, invalidArgument } from './errors.ts';
import { createRng } from './rng.ts';
import { normalQuantile } from './special.ts';

export interface BinomialVariant {
  name?: string;
  successes: number;
  trials: number;
}

export interface BetaBinomialOptions {
  /** Beta prior shared by every variant; default Beta(1, 1), the uniform. */
  prior?: { alpha: number; beta: number };
  /** Level of the equal-tailed credible intervals; default 0.95. */
  confidence?: number;
  /** Index of the control variant, the baseline of the lifts; default 0. */
  control?: number;
  /** 'exact' (default) integrates; 'monte-carlo' draws from the posteriors. */
  method?: 'exact' | 'monte-carlo';
  /** Posterior draws of the Monte Carlo method; default 200 000. */
  draws?: number;
  /** Seed of the Monte Carlo draws; default 1. */
  seed?: number;
}

export interface VariantPosterior {
  name: string;
  successes: number;
  trials: number;
  /** The posterior Beta(alpha, beta) of the variant's rate. */
  alpha: number;
  beta: number;
  mean: number;
  ci: [number, number];
  probabilityBest: number;
  /** E[max_k p_k − p_j]: the rate given up, on average, by shipping this variant. */
  expectedLoss: number;
}

export interface LiftPosterior {
  name: string;
  control: string;
  /** Posterior mean of p_j / p_c − 1 (infinite when the control's posterior alpha is ≤ 1). */
  mean: number;
  median: number;
  ci: [number, number];
  /** P(p_j > p_c). */
  probabilityPositive: number;
}

export interface BetaBinomialResult {
  variants: VariantPosterior[];
  lifts: LiftPosterior[];
  method: 'exact' | 'monte-carlo';
  confidence: number;
}

/** Multiples of a posterior's standard deviation at which the integrals are split; beyond 64 nothing is left. */
const SPREAD = [0, 1, 2, 4, 8, 16, 32, 64];

/** What the exact decision figures need of a posterior: its mean, sd, density and distribution functions. */
export interface DecisionPosterior {
  mean: number;
  sd: number;
  dist: Pick<ContinuousDistribution, 'pdf' | 'cdf' | 'sf'>;
}

interface Posterior extends DecisionPosterior {
  alpha: number;
  beta: number;
  dist: ContinuousDistribution;
}

function posteriorOf(alpha: number, beta: number): Posterior {
  const mean = alpha / (alpha + beta);
  const sd = Math.sqrt((alpha * beta) / ((alpha + beta) ** 2 * (alpha + beta + 1)));
  return { alpha, beta, mean, sd, dist: betaDistribution({ alpha, beta }) };
}

function breakpoints(posteriors: readonly DecisionPosterior[]): number[] {
  const cuts: number[] = [];
  for (const p of posteriors) for (const s of SPREAD) cuts.push(p.mean - s * p.sd, p.mean + s * p.sd);
  return cuts;
}

function support(
  posteriors: readonly DecisionPosterior[],
  bounds: readonly [number, number] = [0, 1],
): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const p of posteriors) {
    lo = Math.min(lo, p.mean - 64 * p.sd);
    hi = Math.max(hi, p.mean + 64 * p.sd);
  }
  return [Math.max(bounds[0], lo), Math.min(bounds[1], hi)];
}

export interface DecisionFigures {
  best: Float64Array;
  loss: Float64Array;
  /** P(p_j > p_control) for every j. */
  aboveControl: Float64Array;
}

/**
 * P(best), expected loss and P(above control) for every variant, in one pass over shared nodes:
 * each posterior's CDF is evaluated once per node, on the side of its mean where it is accurate. Works for
 * any continuous posteriors (Beta here, normal for continuous metrics) on the given support bounds.
 */
export function decisionFigures(
  posteriors: readonly DecisionPosterior[],
  control: number,
  bounds: readonly [number, number] = [0, 1],
): DecisionFigures {
  const k = posteriors.length;
  const [lo, hi] = support(posteriors, bounds);
  const pdf = new Float64Array(k);
  const cdf = new Float64Array(k);
  const logCdf = new Float64Array(k);
  const totals = integratePiecewise(
    (x, out) => {
      for (let m = 0; m < k; m++) {
        const p = posteriors[m];
        pdf[m] = p.dist.pdf(x);
        if (x < p.mean) {
          cdf[m] = p.dist.cdf(x);
          logCdf[m] = Math.log(cdf[m]);
        } else {
          const sf = p.dist.sf(x);
          cdf[m] = 1 - sf;
          logCdf[m] = Math.log1p(-sf);
        }
      }
      for (let j = 0; j < k; j++) {
        let logOthersBelow = 0;
        for (let m = 0; m < k; m++) if (m !== j) logOthersBelow += logCdf[m];
        out[j] = pdf[j] === 0 ? 0 : pdf[j] * Math.exp(logOthersBelow);
        // E[max − p_j] = ∫ P(p_j < t < max) dt = ∫ F_j (1 − Π_{m≠j} F_m); −expm1 keeps it exact near 0.
        out[k + j] = cdf[j] === 0 ? 0 : cdf[j] * -Math.expm1(logOthersBelow);
        out[2 * k + j] = j === control || pdf[j] === 0 ? 0 : pdf[j] * cdf[control];
      }
    },
    3 * k,
    lo,
    hi,
    breakpoints(posteriors),
  );
  return {
    best: totals.subarray(0, k),
    loss: totals.subarray(k, 2 * k),
    aboveControl: totals.subarray(2 * k),
  };
}

function monteCarlo(
  posteriors: readonly Posterior[],
  draws: number,
  seed: number,
): { best: number[]; loss: number[] } {
  const k = posteriors.length;
  const rng = createRng(seed);
  const wins = new Float64Array(k);
  const lossSums = new Float64Array(k);
  const x = new Float64Array(k);
  for (let i = 0; i < draws; i++) {
    let best = 0;
    for (let j = 0; j < k; j++) {
      x[j] = sampleBeta(rng, posteriors[j].alpha, posteriors[j].beta);
      if (x[j] > x[best]) best = j;
    }
    wins[best]++;
    for (let j = 0; j < k; j++) lossSums[j] += x[best] - x[j];
  }
  return { best: Array.from(wins, (w) => w / draws), loss: Array.from(lossSums, (s) => s / draws) };
}

/**
 * G(t) = P(p_j / p_c − 1 ≤ t) = ∫ f_c(x) F_j((1+t)x) dx and its derivative dG/du in u = ln(1 + t),
 * (1+t) ∫ x f_c(x) f_j((1+t)x) dx, from one pass over nodes placed around the control's mass and around
 * x = m_j / (1+t), where F_j((1+t)x) climbs from 0 to 1.
 */
function liftCdfAndSlope(pj: Posterior, pc: Posterior, u: number): [number, number] {
  const scale = Math.exp(u);
  const [lo, hi] = support([pc]);
  const cuts = breakpoints([pc]);
  for (const s of SPREAD) cuts.push((pj.mean - s * pj.sd) / scale, (pj.mean + s * pj.sd) / scale);
  const totals = integratePiecewise(
    (x, out) => {
      const density = pc.dist.pdf(x);
      const y = scale * x;
      if (density === 0 || y >= 1) {
        out[0] = density;
        out[1] = 0;
        return;
      }
      out[0] = density * (y < pj.mean ? pj.dist.cdf(y) : 1 - pj.dist.sf(y));
      out[1] = y * density * pj.dist.pdf(y);
    },
    2,
    lo,
    hi,
    cuts,
  );
  return [totals[0], totals[1]];
}

/** The q-quantile of the relative lift, by safeguarded Newton steps on u = ln(1 + lift). */
function liftQuantile(pj: Posterior, pc: Posterior, q: number): number {
  // Start from the log-normal approximation of the ratio.
  const sigma = Math.sqrt((pj.sd / pj.mean) ** 2 + (pc.sd / pc.mean) ** 2);
  let u = Math.log(pj.mean / pc.mean) + normalQuantile(q) * sigma;
  let lo = Number.NEGATIVE_INFINITY;
  let hi = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 100; i++) {
    const [g, slope] = liftCdfAndSlope(pj, pc, u);
    if (g < q) lo = u;
    else hi = u;
    let next = u - (g - q) / slope;
    if (!(next > lo && next < hi)) {
      if (Number.isFinite(lo) && Number.isFinite(hi)) next = (lo + hi) / 2;
      else next = g < q ? u + Math.max(1, sigma) : u - Math.max(1, sigma);
    }
    if (Math.abs(next - u) <= 1e-13 * Math.max(1, Math.abs(u))) return Math.expm1(next);
    u = next;
  }
  return Math.expm1(u);
}

function checkVariants(variants: readonly BinomialVariant[]): void {
  if (!Array.isArray(variants) || variants.length < 2) {
    invalidArgument('variants', 'must list at least two variants, each { successes, trials }');
  }
  variants.forEach((v, i) => {
    if (!(Number.isInteger(v?.trials) && v.trials >= 0)) {
      invalidArgument(`variants[${i}].trials`, `is ${v?.trials}: it must be an integer ≥ 0`);
    }
    if (!(Number.isInteger(v.successes) && v.successes >= 0 && v.successes <= v.trials)) {
      invalidArgument(`variants[${i}].successes`, `is ${v.successes}: it must be an integer in [0, trials]`);
    }
  });
}

/** Beta-binomial A/B(/n) analysis: posteriors, credible intervals, P(best), expected loss and lifts. */
export function betaBinomialAB(
  variants: readonly BinomialVariant[],
  options: BetaBinomialOptions = {},
): BetaBinomialResult {
  checkVariants(variants);
  const confidence = checkConfidence(options.confidence);
  const prior = options.prior ?? { alpha: 1, beta: 1 };
  checkPositive('prior.alpha', prior.alpha);
  checkPositive('prior.beta', prior.beta);
  const control = options.control ?? 0;
  if (!(Number.isInteger(control) && control >= 0 && control < variants.length)) {
    invalidArgument('control', `is ${control}: it must index one of the ${variants.length} variants`);
  }
  const method = options.method ?? 'exact';
  if (method !== 'exact' && method !== 'monte-carlo') {
    invalidArgument('method', `is ${String(method)}: use 'exact' or 'monte-carlo'`);
  }
  const posteriors = variants.map((v) =>
    posteriorOf(prior.alpha + v.successes, prior.beta + v.trials - v.successes),
  );
  const names = variants.map((v, i) => v.name ?? `variant ${i}`);
  let best: ArrayLike<number>;
  let loss: ArrayLike<number>;
  let aboveControl: ArrayLike<number> | undefined;
  if (method === 'exact') {
    ({ best, loss, aboveControl } = decisionFigures(posteriors, control));
  } else {
    const draws = options.draws ?? 200_000;
    if (!(Number.isInteger(draws) && draws > 0))
      invalidArgument('draws', `is ${draws}: it must be a positive integer`);
    ({ best, loss } = monteCarlo(posteriors, draws, options.seed ?? 1));
  }
  const tail = (1 - confidence) / 2;
  const result: BetaBinomialResult = {
    variants: posteriors.map((p, j) => ({
      name: names[j],
      successes: variants[j].successes,
      trials: variants[j].trials,
      alpha: p.alpha,
      beta: p.beta,
      mean: p.mean,
      ci: [p.dist.quantile(tail), p.dist.quantile(1 - tail)],
      probabilityBest: best[j],
      expectedLoss: loss[j],
    })),
    lifts: [],
    method,
    confidence,
  };
  const pc = posteriors[control];
  posteriors.forEach((pj, j) => {
    if (j === control) return;
    result.lifts.push({
      name: names[j],
      control: names[control],
      mean:
        pc.alpha > 1 ? (pj.mean * (pc.alpha + pc.beta - 1)) / (pc.alpha - 1) - 1 : Number.POSITIVE_INFINITY,
      median: liftQuantile(pj, pc, 0.5),
      ci: [liftQuantile(pj, pc, tail), liftQuantile(pj, pc, 1 - tail)],
      probabilityPositive: aboveControl?.[j] ?? decisionFigures([pj, pc], 1).aboveControl[0],
    });
  });
  return result;
}
