/**
 * Experiment checks and impact: the sample ratio mismatch check that guards every analysis, the relative
 * lift of a treatment with its delta-method interval, CUPED variance reduction with a pre-period covariate,
 * and an always-valid sequential test of two proportions (mSPRT) so an experiment can be watched as it runs
 * without inflating false positives.
 */

import {
  checkConfidence,
  checkPositive,
  checkProbability,
  checkSameLength,
  checkSample,
  invalidArgument,
  type Sample,
  zeroVariance,
} from './errors.ts';
import { chiSquaredGoodnessOfFit } from './hypothesis/categorical.ts';
import { welchTTest } from './hypothesis/means.ts';
import type { TestOptions, TestResult } from './hypothesis/result.ts';
import { normalQuantile } from './special.ts';

export interface SrmResult {
  statistic: number;
  df: number;
  pValue: number;
  /** True when pValue < threshold: the split is broken and the experiment's results are not to be trusted. */
  mismatch: boolean;
  threshold: number;
  expected: number[];
  observedShares: number[];
}

/**
 * Sample ratio mismatch: a χ² goodness-of-fit test of the units each variant received against the shares
 * the split was configured with (equal shares when omitted). The customary threshold is p < 0.001.
 */
export function sampleRatioMismatch(
  counts: Sample,
  expectedShares?: Sample,
  options: { threshold?: number } = {},
): SrmResult {
  const threshold = options.threshold ?? 0.001;
  checkProbability('threshold', threshold, true);
  let probabilities: number[] | undefined;
  if (expectedShares !== undefined) {
    checkSample('expectedShares', expectedShares);
    checkSameLength('counts', counts, 'expectedShares', expectedShares);
    const total = Array.from(expectedShares).reduce((a, b) => a + b, 0);
    if (!(total > 0) || Array.from(expectedShares).some((s) => !(s > 0))) {
      invalidArgument('expectedShares', 'must all be greater than 0');
    }
    probabilities = Array.from(expectedShares, (s) => s / total);
  }
  const test = chiSquaredGoodnessOfFit(counts, { probabilities });
  const n = Array.from(counts).reduce((a, b) => a + b, 0);
  return {
    statistic: test.statistic,
    df: counts.length - 1,
    pValue: test.pValue,
    mismatch: test.pValue < threshold,
    threshold,
    expected: test.expected as number[],
    observedShares: Array.from(counts, (c) => c / n),
  };
}

/** What the delta method needs of a group: its size, mean and the variance of one observation. */
export interface GroupSummary {
  n: number;
  mean: number;
  variance: number;
}

/** n, mean and sample variance (n − 1) of a sample. */
export function summarize(x: Sample): GroupSummary {
  checkSample('x', x, 2);
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i];
  mean /= x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += (x[i] - mean) ** 2;
  return { n: x.length, mean, variance: ss / (x.length - 1) };
}

/** A rate as a group summary: mean p and the Bernoulli variance p (1 − p). */
export function proportionSummary(successes: number, trials: number): GroupSummary {
  if (!(Number.isInteger(trials) && trials > 0))
    invalidArgument('trials', `is ${trials}: it must be a positive integer`);
  if (!(successes >= 0 && successes <= trials)) {
    invalidArgument('successes', `is ${successes}: it must lie in [0, trials]`);
  }
  const p = successes / trials;
  return { n: trials, mean: p, variance: p * (1 - p) };
}

export interface RelativeLiftResult {
  /** Relative lift mean_t / mean_c − 1. */
  estimate: number;
  se: number;
  ci: [number, number];
  /** mean_t − mean_c. */
  difference: number;
  method: string;
}

/**
 * Relative lift of treatment over control with the delta-method standard error
 * √(v_t / (n_t m_c²) + m_t² v_c / (n_c m_c⁴)) and its normal interval.
 */
export function relativeLift(
  treatment: GroupSummary,
  control: GroupSummary,
  options: { confidence?: number } = {},
): RelativeLiftResult {
  const confidence = checkConfidence(options.confidence);
  for (const [name, g] of [
    ['treatment', treatment],
    ['control', control],
  ] as const) {
    checkPositive(`${name}.n`, g.n);
    if (!Number.isFinite(g.mean)) invalidArgument(`${name}.mean`, `is ${g.mean}: it must be a finite number`);
    if (!(g.variance >= 0)) invalidArgument(`${name}.variance`, `is ${g.variance}: it must be ≥ 0`);
  }
  if (control.mean === 0) invalidArgument('control.mean', 'is 0: a relative lift over 0 is undefined');
  const mc = control.mean;
  const mt = treatment.mean;
  const estimate = mt / mc - 1;
  const se = Math.sqrt(
    treatment.variance / (treatment.n * mc * mc) + (mt * mt * control.variance) / (control.n * mc ** 4),
  );
  const z = normalQuantile(0.5 + confidence / 2);
  return {
    estimate,
    se,
    ci: [estimate - z * se, estimate + z * se],
    difference: mt - mc,
    method: 'delta method',
  };
}

export interface CupedResult {
  /** θ = cov(x, y) / var(x). */
  theta: number;
  /** y_i − θ (x_i − mean x): same mean as y, less variance. */
  adjusted: Float64Array;
  /** 1 − var(adjusted) / var(y), the share of variance removed (= corr(x, y)² with the fitted θ). */
  varianceReduction: number;
}

function covariance(x: Sample, mx: number, y: Sample, my: number): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - mx) * (y[i] - my);
  return s / (x.length - 1);
}

function meanOf(x: Sample): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/**
 * CUPED (Deng et al. 2013): adjust an outcome y with a pre-period covariate x, y − θ (x − mean x). Pass
 * `theta` and `covariateMean` to apply values fitted elsewhere (e.g. on both arms pooled).
 */
export function cuped(
  y: Sample,
  x: Sample,
  options: { theta?: number; covariateMean?: number } = {},
): CupedResult {
  checkSample('y', y, 2);
  checkSample('x', x, 2);
  checkSameLength('y', y, 'x', x);
  const mx = options.covariateMean ?? meanOf(x);
  const my = meanOf(y);
  let theta = options.theta;
  if (theta === undefined) {
    const vx = covariance(x, meanOf(x), x, meanOf(x));
    if (vx === 0) zeroVariance('x');
    theta = covariance(x, meanOf(x), y, my) / vx;
  }
  const adjusted = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) adjusted[i] = y[i] - theta * (x[i] - mx);
  const vy = covariance(y, my, y, my);
  const ma = meanOf(adjusted);
  const va = covariance(adjusted, ma, adjusted, ma);
  return { theta, adjusted, varianceReduction: vy > 0 ? 1 - va / vy : 0 };
}

export interface CupedTestResult extends TestResult {
  theta: number;
  varianceReduction: number;
}

/**
 * Welch's t-test of treatment vs control on CUPED-adjusted outcomes, θ and the covariate's mean fitted on
 * both arms pooled (so the adjustment itself cannot favour either arm); estimate = mean_t − mean_c.
 */
export function cupedTest(
  treatment: { y: Sample; x: Sample },
  control: { y: Sample; x: Sample },
  options: TestOptions = {},
): CupedTestResult {
  checkSameLength('treatment.y', treatment.y, 'treatment.x', treatment.x);
  checkSameLength('control.y', control.y, 'control.x', control.x);
  const y = [...Array.from(treatment.y), ...Array.from(control.y)];
  const x = [...Array.from(treatment.x), ...Array.from(control.x)];
  const pooled = cuped(y, x);
  const covariateMean = meanOf(x);
  const t = cuped(treatment.y, treatment.x, { theta: pooled.theta, covariateMean });
  const c = cuped(control.y, control.x, { theta: pooled.theta, covariateMean });
  const test = welchTTest(t.adjusted, c.adjusted, options);
  return {
    ...test,
    theta: pooled.theta,
    varianceReduction: pooled.varianceReduction,
    method: 'Welch two-sample t-test on CUPED-adjusted outcomes',
  };
}

export interface ArmCounts {
  successes: number;
  trials: number;
}

export interface MsprtOptions {
  /** Standard deviation τ of the normal mixing prior on the difference of rates; default 0.01. */
  tau?: number;
  /** Level of the always-valid test and of the confidence sequence; default 0.05. */
  alpha?: number;
}

export interface MsprtResult {
  /** The mixture likelihood ratio Λ. */
  statistic: number;
  /** Always-valid p-value min(1, 1/Λ) (running minimum over looks in `msprtSequence`). */
  pValue: number;
  /** p_treatment − p_control. */
  estimate: number;
  /** The (1 − alpha) confidence sequence of the difference at this look. */
  ci: [number, number];
  reject: boolean;
}

/**
 * One look of the mixture sequential probability ratio test for p_t − p_c = 0 (Johari et al. 2017), with the
 * normal approximation σ² = p_t(1−p_t)/n_t + p_c(1−p_c)/n_c:
 * Λ = √(σ² / (σ² + τ²)) · exp(τ² Δ² / (2 σ² (σ² + τ²))). Checking it after every batch keeps the false
 * positive rate at alpha however often one looks.
 */
export function msprtTwoProportions(
  treatment: ArmCounts,
  control: ArmCounts,
  options: MsprtOptions = {},
): MsprtResult {
  const tau = options.tau ?? 0.01;
  const alpha = options.alpha ?? 0.05;
  checkPositive('tau', tau);
  checkProbability('alpha', alpha, true);
  const t = proportionSummary(treatment.successes, treatment.trials);
  const c = proportionSummary(control.successes, control.trials);
  const delta = t.mean - c.mean;
  const v = t.variance / t.n + c.variance / c.n;
  const tau2 = tau * tau;
  if (v === 0) {
    // Both arms all-or-nothing: the normal approximation has no spread, the data carry no evidence yet.
    return { statistic: 1, pValue: 1, estimate: delta, ci: [-1, 1], reject: false };
  }
  const logLambda = 0.5 * Math.log(v / (v + tau2)) + (tau2 * delta * delta) / (2 * v * (v + tau2));
  const statistic = Math.exp(logLambda);
  const pValue = Math.min(1, Math.exp(-logLambda));
  const radius = Math.sqrt(
    ((2 * v * (v + tau2)) / tau2) * (Math.log(1 / alpha) + 0.5 * Math.log((v + tau2) / v)),
  );
  return {
    statistic,
    pValue,
    estimate: delta,
    ci: [delta - radius, delta + radius],
    reject: pValue <= alpha,
  };
}

/**
 * mSPRT over successive looks at cumulative counts: p-values are running minima and intervals running
 * intersections, both valid at every look at once.
 */
export function msprtSequence(
  looks: readonly { treatment: ArmCounts; control: ArmCounts }[],
  options: MsprtOptions = {},
): MsprtResult[] {
  if (!Array.isArray(looks) || looks.length === 0) invalidArgument('looks', 'must be a non-empty array');
  const out: MsprtResult[] = [];
  let p = 1;
  let lo = Number.NEGATIVE_INFINITY;
  let hi = Number.POSITIVE_INFINITY;
  for (const look of looks) {
    const r = msprtTwoProportions(look.treatment, look.control, options);
    p = Math.min(p, r.pValue);
    lo = Math.max(lo, r.ci[0]);
    hi = Math.min(hi, r.ci[1]);
    out.push({ ...r, pValue: p, ci: [lo, hi], reject: p <= (options.alpha ?? 0.05) });
  }
  return out;
}
