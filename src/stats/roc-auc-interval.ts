/**
 * Confidence intervals for ROC AUC by DeLong's method (DeLong, DeLong & Clarke-Pearson 1988), computed from
 * mid-ranks in O(n log n) (Sun & Xu 2014): the interval of one model's AUC, and of the difference between two
 * models scored on the same rows (paired, so the shared rows' noise cancels). Ties count one half.
 */
import { checkConfidence, checkSameLength, checkSample, invalidArgument, type Sample } from './errors.ts';
import { normalCdf, normalQuantile } from './special.ts';

/** Mid-ranks (1-based, ties averaged) of `values`. */
function midRanks(values: Float64Array): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++;
    const mid = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]] = mid;
    i = j + 1;
  }
  return ranks;
}

/** DeLong's structural components of one score vector: V10 per positive, V01 per negative, and the AUC. */
interface Components {
  auc: number;
  v10: Float64Array;
  v01: Float64Array;
}

function split(labels: Sample): { positives: number[]; negatives: number[] } {
  checkSample('labels', labels);
  const positives: number[] = [];
  const negatives: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) positives.push(i);
    else if (labels[i] === 0) negatives.push(i);
    else invalidArgument(`labels[${i}]`, `is ${labels[i]}: a label must be 0 or 1`, { index: i });
  }
  if (positives.length < 2 || negatives.length < 2) {
    invalidArgument(
      'labels',
      `hold ${positives.length} positive(s) and ${negatives.length} negative(s): an AUC interval needs at least 2 of each`,
    );
  }
  return { positives, negatives };
}

function components(scores: Sample, positives: number[], negatives: number[]): Components {
  const m = positives.length;
  const n = negatives.length;
  const x = Float64Array.from(positives, (i) => scores[i]);
  const y = Float64Array.from(negatives, (i) => scores[i]);
  const z = new Float64Array(m + n);
  z.set(x);
  z.set(y, m);
  const tx = midRanks(x);
  const ty = midRanks(y);
  const tz = midRanks(z);
  const v10 = new Float64Array(m);
  const v01 = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    v10[i] = (tz[i] - tx[i]) / n;
    sum += tz[i];
  }
  for (let j = 0; j < n; j++) v01[j] = 1 - (tz[m + j] - ty[j]) / m;
  const auc = (sum - (m * (m + 1)) / 2) / (m * n);
  return { auc, v10, v01 };
}

function covariance(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (a[i] - ma) * (b[i] - mb);
  return s / (n - 1);
}

export interface AucInterval {
  auc: number;
  /** DeLong standard error. */
  se: number;
  ci: [number, number];
  confidence: number;
  positives: number;
  negatives: number;
}

/** ROC AUC with its DeLong interval (normal, clipped to [0, 1]). */
export function rocAucInterval(
  labels: Sample,
  scores: Sample,
  options: { confidence?: number } = {},
): AucInterval {
  const confidence = checkConfidence(options.confidence);
  checkSample('scores', scores);
  checkSameLength('labels', labels, 'scores', scores);
  const { positives, negatives } = split(labels);
  const c = components(scores, positives, negatives);
  const variance = covariance(c.v10, c.v10) / positives.length + covariance(c.v01, c.v01) / negatives.length;
  const se = Math.sqrt(Math.max(0, variance));
  const z = normalQuantile(0.5 + confidence / 2);
  return {
    auc: c.auc,
    se,
    ci: [Math.max(0, c.auc - z * se), Math.min(1, c.auc + z * se)],
    confidence,
    positives: positives.length,
    negatives: negatives.length,
  };
}

export interface AucDifference {
  /** AUC of A minus AUC of B. */
  difference: number;
  aucA: number;
  aucB: number;
  se: number;
  ci: [number, number];
  /** Two-sided p-value of H0: equal AUCs (DeLong's paired z test). */
  pValue: number;
  confidence: number;
}

/** The difference of two models' AUCs on the same rows, with DeLong's paired interval and test. */
export function rocAucDifference(
  labels: Sample,
  scoresA: Sample,
  scoresB: Sample,
  options: { confidence?: number } = {},
): AucDifference {
  const confidence = checkConfidence(options.confidence);
  checkSample('scoresA', scoresA);
  checkSample('scoresB', scoresB);
  checkSameLength('labels', labels, 'scoresA', scoresA);
  checkSameLength('labels', labels, 'scoresB', scoresB);
  const { positives, negatives } = split(labels);
  const a = components(scoresA, positives, negatives);
  const b = components(scoresB, positives, negatives);
  const m = positives.length;
  const n = negatives.length;
  const variance =
    (covariance(a.v10, a.v10) + covariance(b.v10, b.v10) - 2 * covariance(a.v10, b.v10)) / m +
    (covariance(a.v01, a.v01) + covariance(b.v01, b.v01) - 2 * covariance(a.v01, b.v01)) / n;
  const se = Math.sqrt(Math.max(0, variance));
  const difference = a.auc - b.auc;
  const z = normalQuantile(0.5 + confidence / 2);
  const pValue = se === 0 ? (difference === 0 ? 1 : 0) : 2 * (1 - normalCdf(Math.abs(difference) / se));
  return {
    difference,
    aucA: a.auc,
    aucB: b.auc,
    se,
    ci: [difference - z * se, difference + z * se],
    pValue,
    confidence,
  };
}
