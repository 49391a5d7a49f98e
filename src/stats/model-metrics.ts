/**
 * Offline metrics of a scoring model and a ranking: log loss and ROC AUC of predicted click probabilities,
 * precision / recall / NDCG at k and mean reciprocal rank of ranked slates, click-through rate with its
 * Wilson interval, and the lift of the top-scored fraction over the base rate.
 */
import {
  checkConfidence,
  checkProbability,
  checkSameLength,
  checkSample,
  invalidArgument,
  type Sample,
} from './errors.ts';
import { normalQuantile } from './special.ts';

function checkLabels(labels: Sample): { positives: number } {
  checkSample('labels', labels);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) invalidArgument(`labels[${i}]`, `is ${y}: a label must be 0 or 1`, { index: i });
    positives += y;
  }
  return { positives };
}

/** Mean negative log-likelihood of 0/1 labels under predicted probabilities, clipped to [eps, 1 − eps]. */
export function logLoss(labels: Sample, probabilities: Sample, options: { eps?: number } = {}): number {
  checkLabels(labels);
  checkSample('probabilities', probabilities);
  checkSameLength('labels', labels, 'probabilities', probabilities);
  const eps = options.eps ?? 1e-15;
  checkProbability('eps', eps, true);
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const raw = probabilities[i];
    checkProbability(`probabilities[${i}]`, raw);
    const p = Math.min(1 - eps, Math.max(eps, raw));
    sum -= labels[i] === 1 ? Math.log(p) : Math.log1p(-p);
  }
  return sum / labels.length;
}

/**
 * Area under the ROC curve: the probability a random positive scores above a random negative, ties counting
 * one half (the Mann–Whitney U over n₊ n₋, from mid-ranks).
 */
export function rocAuc(labels: Sample, scores: Sample): number {
  const { positives } = checkLabels(labels);
  checkSample('scores', scores);
  checkSameLength('labels', labels, 'scores', scores);
  const n = labels.length;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) {
    invalidArgument('labels', 'hold a single class: ROC AUC needs both positives and negatives');
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPositives = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) if (labels[order[t]] === 1) rankSumPositives += midRank;
    i = j + 1;
  }
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** One ranked slate and what was relevant in it. */
export interface RankingQuery<T = string | number> {
  /** Items in the order shown, best first. */
  ranked: readonly T[];
  /** The relevant items (binary relevance), or each relevant item's graded gain (> 0). */
  relevant: readonly T[] | ReadonlyMap<T, number>;
}

function gainsOf<T>(query: RankingQuery<T>): ReadonlyMap<T, number> {
  if (query.relevant instanceof Map) return query.relevant;
  const gains = new Map<T, number>();
  for (const item of query.relevant as readonly T[]) gains.set(item, 1);
  return gains;
}

function checkQueries<T>(queries: readonly RankingQuery<T>[], k?: number): void {
  if (!Array.isArray(queries) || queries.length === 0) {
    invalidArgument('queries', 'must be a non-empty array of { ranked, relevant }');
  }
  if (k !== undefined && !(Number.isInteger(k) && k >= 1)) {
    invalidArgument('k', `is ${k}: it must be an integer ≥ 1`);
  }
}

function hitsAtK<T>(query: RankingQuery<T>, gains: ReadonlyMap<T, number>, k: number): number {
  let hits = 0;
  const top = Math.min(k, query.ranked.length);
  for (let i = 0; i < top; i++) if ((gains.get(query.ranked[i]) ?? 0) > 0) hits++;
  return hits;
}

function countRelevant<T>(gains: ReadonlyMap<T, number>): number {
  let count = 0;
  for (const g of gains.values()) if (g > 0) count++;
  return count;
}

/** Mean over queries of (relevant items among the top k) / k. */
export function precisionAtK<T>(queries: readonly RankingQuery<T>[], k: number): number {
  checkQueries(queries, k);
  let sum = 0;
  for (const q of queries) sum += hitsAtK(q, gainsOf(q), k) / k;
  return sum / queries.length;
}

/** Mean over queries of (relevant items among the top k) / (relevant items); a query with none counts 0. */
export function recallAtK<T>(queries: readonly RankingQuery<T>[], k: number): number {
  checkQueries(queries, k);
  let sum = 0;
  for (const q of queries) {
    const gains = gainsOf(q);
    const relevant = countRelevant(gains);
    if (relevant > 0) sum += hitsAtK(q, gains, k) / relevant;
  }
  return sum / queries.length;
}

/**
 * Mean over queries of DCG@k / IDCG@k with DCG = Σ gain_i / log2(i + 1) over ranks i = 1..k (linear gains,
 * as scikit-learn's `ndcg_score`; `gain: 'exponential'` uses 2^gain − 1). A query with no relevant item
 * counts 0.
 */
export function ndcgAtK<T>(
  queries: readonly RankingQuery<T>[],
  k: number,
  options: { gain?: 'linear' | 'exponential' } = {},
): number {
  checkQueries(queries, k);
  const transform = options.gain === 'exponential' ? (g: number) => 2 ** g - 1 : (g: number) => g;
  let sum = 0;
  for (const q of queries) {
    const gains = gainsOf(q);
    let dcg = 0;
    const top = Math.min(k, q.ranked.length);
    for (let i = 0; i < top; i++) dcg += transform(gains.get(q.ranked[i]) ?? 0) / Math.log2(i + 2);
    const ideal = [...gains.values()].filter((g) => g > 0).sort((a, b) => b - a);
    let idcg = 0;
    for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += transform(ideal[i]) / Math.log2(i + 2);
    if (idcg > 0) sum += dcg / idcg;
  }
  return sum / queries.length;
}

/** Mean over queries of 1 / (rank of the first relevant item); 0 when no relevant item was ranked. */
export function mrr<T>(queries: readonly RankingQuery<T>[]): number {
  checkQueries(queries);
  let sum = 0;
  for (const q of queries) {
    const gains = gainsOf(q);
    const first = q.ranked.findIndex((item) => (gains.get(item) ?? 0) > 0);
    if (first >= 0) sum += 1 / (first + 1);
  }
  return sum / queries.length;
}

export interface CtrEstimate {
  estimate: number;
  /** Wilson score interval, which stays inside [0, 1] and behaves at 0 and n clicks. */
  ci: [number, number];
  successes: number;
  trials: number;
}

/** Click-through rate clicks / impressions with its Wilson score interval. */
export function ctr(clicks: number, impressions: number, options: { confidence?: number } = {}): CtrEstimate {
  const confidence = checkConfidence(options.confidence);
  if (!(Number.isInteger(impressions) && impressions > 0)) {
    invalidArgument('impressions', `is ${impressions}: it must be a positive integer`);
  }
  if (!(Number.isInteger(clicks) && clicks >= 0 && clicks <= impressions)) {
    invalidArgument(
      'clicks',
      `is ${clicks}: it must be an integer between 0 and impressions (${impressions})`,
    );
  }
  const p = clicks / impressions;
  const z = normalQuantile(0.5 + confidence / 2);
  const z2 = z * z;
  const denominator = 1 + z2 / impressions;
  const centre = (p + z2 / (2 * impressions)) / denominator;
  const half =
    (z * Math.sqrt((p * (1 - p)) / impressions + z2 / (4 * impressions * impressions))) / denominator;
  return { estimate: p, ci: [centre - half, centre + half], successes: clicks, trials: impressions };
}

export interface TopFractionLift {
  /** Positive rate in the top fraction over the overall positive rate. */
  lift: number;
  topRate: number;
  baseRate: number;
  /** Records in the top fraction: ⌈fraction · n⌉. */
  topCount: number;
}

/**
 * Lift of the top-scored fraction (default the top decile): how many times more positives the model finds
 * there than a random pick would. Equal scores keep their input order.
 */
export function lift(labels: Sample, scores: Sample, options: { fraction?: number } = {}): TopFractionLift {
  const { positives } = checkLabels(labels);
  checkSample('scores', scores);
  checkSameLength('labels', labels, 'scores', scores);
  const fraction = options.fraction ?? 0.1;
  if (!(fraction > 0 && fraction <= 1)) invalidArgument('fraction', `is ${fraction}: it must lie in (0, 1]`);
  if (positives === 0)
    invalidArgument('labels', 'hold no positive: lift is undefined when the base rate is 0');
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const topCount = Math.ceil(fraction * n - 1e-9);
  let topPositives = 0;
  for (let i = 0; i < topCount; i++) topPositives += labels[order[i]];
  const topRate = topPositives / topCount;
  const baseRate = positives / n;
  return { lift: topRate / baseRate, topRate, baseRate, topCount };
}
