/**
 * Off-policy estimates of a target policy's mean reward from decisions logged under another policy: inverse
 * propensity scoring (IPS), its self-normalized form (SNIPS) and the doubly robust estimator (DR). Each
 * record i carries the reward r_i observed for the logged action, the probability μ_i with which the
 * logging policy chose that action, and the probability π_i with which the target policy would have; the
 * importance weight is w_i = π_i / μ_i. Intervals are normal approximations (Wald) from the per-record
 * terms, the form the shadow-test report prints next to each estimate.
 */
import { checkConfidence, checkSameLength, checkSample, invalidArgument, type Sample } from './errors.ts';
import { normalQuantile } from './special.ts';

export interface LoggedRewards {
  /** Reward observed for the logged action (a click: 0 or 1; watch time: seconds...). */
  reward: Sample;
  /** Probability the logging policy gave the logged action, in (0, 1]. */
  propensity: Sample;
  /** Probability the target policy gives the logged action, in [0, 1]. */
  targetProbability: Sample;
}

export interface LoggedRewardsWithModel extends LoggedRewards {
  /** The reward model's estimate r̂(x_i, a_i) for the logged action. */
  modelEstimate: Sample;
  /**
   * The model's expected reward under the target policy in that context, Σ_a π(a | x_i) r̂(x_i, a). When
   * omitted, `modelEstimate` stands in for it: the model is then a per-context baseline, and DR is IPS with
   * that baseline as a control variate (still unbiased, with less variance when the baseline is good).
   */
  targetModelEstimate?: Sample;
}

export interface OffPolicyOptions {
  /** Confidence level of the interval, default 0.95. */
  confidence?: number;
  /** Clip importance weights at this value (biased, less variance); default: no clipping. */
  maxWeight?: number;
}

export interface OffPolicyEstimate {
  estimate: number;
  /** Standard error of the estimate. */
  se: number;
  ci: [number, number];
  n: number;
  /** Kish's effective sample size (Σw)² / Σw²: how many on-policy records the log is worth. */
  effectiveSampleSize: number;
  /** Mean importance weight; far from 1 signals a support problem or wrong propensities. */
  meanWeight: number;
  method: string;
}

function checkLog(data: LoggedRewards): number {
  checkSample('reward', data.reward);
  checkSample('propensity', data.propensity);
  checkSample('targetProbability', data.targetProbability);
  checkSameLength('reward', data.reward, 'propensity', data.propensity);
  checkSameLength('reward', data.reward, 'targetProbability', data.targetProbability);
  for (let i = 0; i < data.propensity.length; i++) {
    const mu = data.propensity[i];
    if (!(mu > 0 && mu <= 1)) {
      invalidArgument(`propensity[${i}]`, `is ${mu}: a logging propensity must lie in (0, 1]`, { index: i });
    }
    const pi = data.targetProbability[i];
    if (!(pi >= 0 && pi <= 1)) {
      invalidArgument(`targetProbability[${i}]`, `is ${pi}: a probability must lie in [0, 1]`, { index: i });
    }
  }
  return data.reward.length;
}

function weights(data: LoggedRewards, maxWeight: number | undefined): Float64Array {
  if (maxWeight !== undefined && !(maxWeight > 0)) {
    invalidArgument('maxWeight', `is ${maxWeight}: it must be greater than 0`);
  }
  const n = data.reward.length;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = data.targetProbability[i] / data.propensity[i];
    w[i] = maxWeight !== undefined && v > maxWeight ? maxWeight : v;
  }
  return w;
}

function summarizeWeights(w: Float64Array): { sum: number; sumSquares: number } {
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < w.length; i++) {
    sum += w[i];
    sumSquares += w[i] * w[i];
  }
  return { sum, sumSquares };
}

/** Mean, standard error (sample sd / √n) and interval of per-record terms. */
function meanEstimate(
  terms: Float64Array,
  w: Float64Array,
  confidence: number,
  method: string,
): OffPolicyEstimate {
  const n = terms.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += terms[i];
  const estimate = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (terms[i] - estimate) ** 2;
  const se = n > 1 ? Math.sqrt(ss / (n - 1) / n) : Number.NaN;
  const z = normalQuantile(0.5 + confidence / 2);
  const { sum: ws, sumSquares } = summarizeWeights(w);
  return {
    estimate,
    se,
    ci: [estimate - z * se, estimate + z * se],
    n,
    effectiveSampleSize: sumSquares > 0 ? (ws * ws) / sumSquares : 0,
    meanWeight: ws / n,
    method,
  };
}

/** Inverse propensity scoring: mean of w_i r_i. Unbiased when μ covers π's support; high variance. */
export function ips(data: LoggedRewards, options: OffPolicyOptions = {}): OffPolicyEstimate {
  const confidence = checkConfidence(options.confidence);
  const n = checkLog(data);
  const w = weights(data, options.maxWeight);
  const terms = new Float64Array(n);
  for (let i = 0; i < n; i++) terms[i] = w[i] * data.reward[i];
  return meanEstimate(terms, w, confidence, 'inverse propensity scoring');
}

/**
 * Self-normalized IPS: Σ w_i r_i / Σ w_i. Slightly biased, far less variance than IPS; the standard error is
 * the delta method's √(Σ w_i² (r_i − V)²) / Σ w_i.
 */
export function snips(data: LoggedRewards, options: OffPolicyOptions = {}): OffPolicyEstimate {
  const confidence = checkConfidence(options.confidence);
  const n = checkLog(data);
  const w = weights(data, options.maxWeight);
  const { sum, sumSquares } = summarizeWeights(w);
  if (!(sum > 0)) {
    invalidArgument(
      'targetProbability',
      'is 0 on every logged action: the log says nothing about the target policy',
    );
  }
  let weighted = 0;
  for (let i = 0; i < n; i++) weighted += w[i] * data.reward[i];
  const estimate = weighted / sum;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (w[i] * (data.reward[i] - estimate)) ** 2;
  const se = Math.sqrt(ss) / sum;
  const z = normalQuantile(0.5 + confidence / 2);
  return {
    estimate,
    se,
    ci: [estimate - z * se, estimate + z * se],
    n,
    effectiveSampleSize: (sum * sum) / sumSquares,
    meanWeight: sum / n,
    method: 'self-normalized inverse propensity scoring',
  };
}

/**
 * Doubly robust: mean of DM_i + w_i (r_i − r̂_i), where DM_i is the model's expected reward under the target
 * policy. Unbiased when either the propensities or the reward model are right.
 */
export function doublyRobust(
  data: LoggedRewardsWithModel,
  options: OffPolicyOptions = {},
): OffPolicyEstimate {
  const confidence = checkConfidence(options.confidence);
  const n = checkLog(data);
  checkSample('modelEstimate', data.modelEstimate);
  checkSameLength('reward', data.reward, 'modelEstimate', data.modelEstimate);
  const direct = data.targetModelEstimate ?? data.modelEstimate;
  if (data.targetModelEstimate !== undefined) {
    checkSample('targetModelEstimate', data.targetModelEstimate);
    checkSameLength('reward', data.reward, 'targetModelEstimate', data.targetModelEstimate);
  }
  const w = weights(data, options.maxWeight);
  const terms = new Float64Array(n);
  for (let i = 0; i < n; i++) terms[i] = direct[i] + w[i] * (data.reward[i] - data.modelEstimate[i]);
  return meanEstimate(terms, w, confidence, 'doubly robust');
}
