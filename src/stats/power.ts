/**
 * Power analysis for two-group experiments: the power of a design, the sample size that reaches a target power,
 * and the minimum detectable effect. Two proportions use the normal approximation with the pooled variance under
 * the null and the unpooled one under the alternative (statsmodels' `power_proportions_2indep`); two means use the
 * noncentral t distribution of the pooled t-test (statsmodels' `TTestIndPower`). Group 2 has `ratio` × n1 units.
 * `alternative: 'greater'` means the alternative p1 > p2 (or μ1 > μ2).
 */
import { studentT } from './distributions/sampling.ts';
import {
  type Alternative,
  checkAlternative,
  checkPositive,
  checkProbability,
  invalidArgument,
} from './errors.ts';
import { noncentralTCdf, noncentralTSf } from './noncentral-t.ts';
import { normalCdf, normalQuantile } from './special.ts';

interface DesignBase {
  /** Significance level (default 0.05). */
  alpha?: number;
  alternative?: Alternative;
  /** n2 / n1 (default 1). */
  ratio?: number;
}

export interface ProportionsDesign extends DesignBase {
  kind: 'proportions';
  /** Proportion in group 1 under the alternative (the treatment). */
  p1: number;
  /** Proportion in group 2 (the control, or baseline). */
  p2: number;
}

export interface MeansDesign extends DesignBase {
  kind: 'means';
  /** Standardised effect (μ1 − μ2) / σ (Cohen's d); or give `difference` and `sd`. */
  effectSize?: number;
  difference?: number;
  sd?: number;
}

export type Design = ProportionsDesign | MeansDesign;

interface Settings {
  alpha: number;
  alternative: Alternative;
  ratio: number;
}

function settings(design: DesignBase): Settings {
  const alpha = design.alpha ?? 0.05;
  checkProbability('alpha', alpha, true);
  const ratio = design.ratio ?? 1;
  checkPositive('ratio', ratio);
  return { alpha, alternative: checkAlternative(design.alternative), ratio };
}

function proportionsPower(p1: number, p2: number, n1: number, s: Settings): number {
  const diff = p1 - p2;
  const pooled = (p1 + p2 * s.ratio) / (1 + s.ratio);
  const stdNull = Math.sqrt(pooled * (1 - pooled) + (pooled * (1 - pooled)) / s.ratio);
  const stdAlt = Math.sqrt(p1 * (1 - p1) + (p2 * (1 - p2)) / s.ratio);
  const tailAlpha = s.alternative === 'two-sided' ? s.alpha / 2 : s.alpha;
  const shift = (diff * Math.sqrt(n1)) / stdAlt;
  const ratioStd = stdNull / stdAlt;
  let power = 0;
  if (s.alternative !== 'less') power += normalCdf(-(-normalQuantile(tailAlpha) * ratioStd - shift));
  if (s.alternative !== 'greater') power += normalCdf(normalQuantile(tailAlpha) * ratioStd - shift);
  return power;
}

function meansPower(d: number, n1: number, s: Settings): number {
  const n2 = n1 * s.ratio;
  const df = n1 + n2 - 2;
  if (!(df > 0)) return Number.NaN;
  const nc = d * Math.sqrt(1 / (1 / n1 + 1 / n2));
  const t = studentT({ df });
  const tailAlpha = s.alternative === 'two-sided' ? s.alpha / 2 : s.alpha;
  let power = 0;
  if (s.alternative !== 'less') power += noncentralTSf(t.quantile(1 - tailAlpha), df, nc);
  if (s.alternative !== 'greater') power += noncentralTCdf(t.quantile(tailAlpha), df, nc);
  return power;
}

function effectSizeOf(design: MeansDesign): number {
  if (design.effectSize !== undefined) {
    if (!Number.isFinite(design.effectSize))
      invalidArgument('effectSize', `is ${design.effectSize}: it must be finite`);
    return design.effectSize;
  }
  if (design.difference === undefined || design.sd === undefined) {
    return invalidArgument('effectSize', 'is missing: give effectSize, or difference and sd');
  }
  checkPositive('sd', design.sd);
  return design.difference / design.sd;
}

function checkDesign(design: Design): void {
  if (
    design === null ||
    typeof design !== 'object' ||
    (design.kind !== 'proportions' && design.kind !== 'means')
  ) {
    invalidArgument('design.kind', "must be 'proportions' or 'means'");
  }
  if (design.kind === 'proportions') {
    checkProbability('p1', design.p1, true);
    checkProbability('p2', design.p2, true);
  }
}

/** Power of the design with n1 units in group 1 (and ratio × n1 in group 2). */
export function power(design: Design & { n1: number }): number {
  checkDesign(design);
  checkPositive('n1', design.n1);
  const s = settings(design);
  return design.kind === 'proportions'
    ? proportionsPower(design.p1, design.p2, design.n1, s)
    : meansPower(effectSizeOf(design), design.n1, s);
}

/** Bisection for the root of an increasing function on [lo, hi] (log scale when `log`), to ~1e-13 relative. */
function solveIncreasing(f: (x: number) => number, lo: number, hi: number, log: boolean): number {
  let a = log ? Math.log(lo) : lo;
  let b = log ? Math.log(hi) : hi;
  const at = (u: number): number => f(log ? Math.exp(u) : u);
  for (let i = 0; i < 200 && Math.abs(b - a) > 1e-14 * Math.max(1, Math.abs(a)); i++) {
    const m = (a + b) / 2;
    if (at(m) < 0) a = m;
    else b = m;
  }
  const u = (a + b) / 2;
  return log ? Math.exp(u) : u;
}

export interface SampleSize {
  /** Units in group 1, rounded up. */
  n1: number;
  /** Units in group 2, rounded up. */
  n2: number;
  total: number;
  /** The exact (fractional) n1 at which the power equals the target. */
  n1Exact: number;
  /** The power achieved by the rounded sizes. */
  achievedPower: number;
}

function checkTarget(target: number): void {
  checkProbability('power', target, true);
}

/** The smallest group sizes that reach `power` (default 0.8). */
export function sampleSize(design: Design & { power?: number }): SampleSize {
  checkDesign(design);
  const target = design.power ?? 0.8;
  checkTarget(target);
  const s = settings(design);
  const at = (n: number): number =>
    design.kind === 'proportions'
      ? proportionsPower(design.p1, design.p2, n, s)
      : meansPower(effectSizeOf(design), n, s);
  if (design.kind === 'proportions' && design.p1 === design.p2)
    invalidArgument('p1', 'equals p2: there is no effect to detect');
  if (design.kind === 'means' && effectSizeOf(design) === 0)
    invalidArgument('effectSize', 'is 0: there is no effect to detect');
  const lo = design.kind === 'means' ? (2 / (1 + s.ratio)) * (1 + 1e-6) : 1e-6;
  let hi = 16;
  while (at(hi) < target) {
    hi *= 4;
    if (hi > 1e15)
      invalidArgument(
        'power',
        `${target} is out of reach: the effect is too small or in the wrong direction`,
      );
  }
  const n1Exact = solveIncreasing((n) => at(n) - target, lo, hi, true);
  const n1 = Math.ceil(n1Exact - 1e-9);
  const rounded = { ...design, n1, ratio: (Math.ceil(n1 * s.ratio - 1e-9) / n1) as number };
  return {
    n1,
    n2: Math.ceil(n1 * s.ratio - 1e-9),
    total: n1 + Math.ceil(n1 * s.ratio - 1e-9),
    n1Exact,
    achievedPower: power(rounded as Design & { n1: number }),
  };
}

export interface MinimumDetectableEffectInput extends DesignBase {
  kind: 'proportions' | 'means';
  n1: number;
  /** Target power (default 0.8). */
  power?: number;
  /** Baseline proportion of group 2 (proportions only). */
  p2?: number;
  /** Standard deviation, to express the mean effect in units (means only). */
  sd?: number;
}

export interface MinimumDetectableEffect {
  /** p1 − p2 (proportions) or μ1 − μ2 (means, when `sd` is given; else the standardised effect). */
  difference: number;
  /** The standardised effect d (means only). */
  effectSize?: number;
  /** The treatment proportion p2 + difference (proportions only). */
  p1?: number;
}

/**
 * The smallest effect the design detects with the target power. Negative for `alternative: 'less'`;
 * positive otherwise.
 */
export function minimumDetectableEffect(input: MinimumDetectableEffectInput): MinimumDetectableEffect {
  checkPositive('n1', input?.n1);
  const target = input.power ?? 0.8;
  checkTarget(target);
  const s = settings(input);
  const sign = s.alternative === 'less' ? -1 : 1;
  if (input.kind === 'proportions') {
    const p2 = input.p2 as number;
    checkProbability('p2', p2, true);
    const room = sign > 0 ? 1 - p2 : p2;
    const f = (m: number): number => proportionsPower(p2 + sign * m, p2, input.n1, s) - target;
    if (f(room * (1 - 1e-12)) < 0)
      invalidArgument('n1', `is ${input.n1}: too small to reach power ${target} at any effect`);
    const m = solveIncreasing(f, 0, room * (1 - 1e-12), false);
    return { difference: sign * m, p1: p2 + sign * m };
  }
  if (input.kind !== 'means') return invalidArgument('kind', "must be 'proportions' or 'means'");
  const f = (d: number): number => meansPower(sign * d, input.n1, s) - target;
  let hi = 1;
  while (f(hi) < 0) {
    hi *= 2;
    if (hi > 1e6) invalidArgument('n1', `is ${input.n1}: too small to reach power ${target}`);
  }
  const d = solveIncreasing(f, 0, hi, false) * sign;
  if (input.sd !== undefined) checkPositive('sd', input.sd);
  return { difference: input.sd === undefined ? d : d * input.sd, effectSize: d };
}
