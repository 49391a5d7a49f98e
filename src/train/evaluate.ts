/**
 * Offline metrics of click models on the holdout, the candidate and the active model on the same rows: log
 * loss, ROC AUC with its DeLong interval and the paired difference, calibration (observed/expected, ECE,
 * reliability bins and diagram), and per carousel NDCG@k, MRR and precision@k of the order each model would
 * give the shown items, over carousels with at least one click. Pure; the functions are those of src/stats.
 */
import { renderSvg, textTable } from '../report/charts.ts';
import {
  type AucDifference,
  type AucInterval,
  type CalibrationBin,
  calibration,
  logLoss,
  mrr,
  ndcgAtK,
  precisionAtK,
  type RankingQuery,
  rocAucDifference,
  rocAucInterval,
} from '../stats/index.ts';

export const RANKING_K = 5;

export interface ModelMetrics {
  rows: number;
  clicks: number;
  logLoss: number;
  /** ROC AUC with its DeLong interval; null when the holdout lacks two clicks or two non-clicks. */
  auc: AucInterval | null;
  meanPrediction: number;
  observedOverExpected: number;
  ece: number;
  reliability: CalibrationBin[];
  ranking: { k: number; carousels: number; ndcg: number; mrr: number; precision: number } | null;
}

export interface HoldoutComparison {
  candidate: ModelMetrics;
  /** The active model on the same rows; null when it follows another feature spec. */
  active: ModelMetrics | null;
  activeVersion: string | null;
  /** Candidate minus active. */
  logLossDifference: number | null;
  aucDifference: AucDifference | null;
}

/** The holdout rows a comparison needs: labels and, per row, its carousel and item. */
export interface HoldoutRows {
  labels: Uint8Array;
  requestIds: readonly string[];
  itemIds: readonly string[];
}

function tryOrNull<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/** Rows grouped by carousel (consecutive equal request ids), with at least one click. */
function carouselsWithClicks(rows: HoldoutRows): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let id = '';
  const flush = () => {
    if (current.some((r) => rows.labels[r] === 1)) groups.push(current);
  };
  for (let r = 0; r < rows.labels.length; r++) {
    if (rows.requestIds[r] !== id) {
      flush();
      current = [];
      id = rows.requestIds[r];
    }
    current.push(r);
  }
  flush();
  return groups;
}

function rankingOf(rows: HoldoutRows, scores: ArrayLike<number>, k: number): ModelMetrics['ranking'] {
  const groups = carouselsWithClicks(rows);
  if (groups.length === 0) return null;
  const queries: RankingQuery<string>[] = groups.map((group) => ({
    ranked: [...group].sort((a, b) => scores[b] - scores[a] || a - b).map((r) => `${r}:${rows.itemIds[r]}`),
    relevant: group.filter((r) => rows.labels[r] === 1).map((r) => `${r}:${rows.itemIds[r]}`),
  }));
  return {
    k,
    carousels: queries.length,
    ndcg: ndcgAtK(queries, k),
    mrr: mrr(queries),
    precision: precisionAtK(queries, k),
  };
}

/** The metrics of one model's predictions on the holdout rows. */
export function evaluateModel(
  rows: HoldoutRows,
  probabilities: ArrayLike<number>,
  options: { k?: number; confidence?: number } = {},
): ModelMetrics {
  const { labels } = rows;
  const cal = calibration(labels, probabilities);
  let clicks = 0;
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    clicks += labels[i];
    sum += probabilities[i];
  }
  return {
    rows: labels.length,
    clicks,
    logLoss: logLoss(labels, probabilities),
    auc: tryOrNull(() => rocAucInterval(labels, probabilities, { confidence: options.confidence })),
    meanPrediction: sum / labels.length,
    observedOverExpected: cal.observedOverExpected,
    ece: cal.ece,
    reliability: cal.bins,
    ranking: rankingOf(rows, probabilities, options.k ?? RANKING_K),
  };
}

/** Candidate and active model on the same holdout rows. */
export function compareOnHoldout(
  rows: HoldoutRows,
  candidate: ArrayLike<number>,
  active: { version: string; probabilities: ArrayLike<number> } | null,
  options: { k?: number; confidence?: number } = {},
): HoldoutComparison {
  const c = evaluateModel(rows, candidate, options);
  if (active === null) {
    return { candidate: c, active: null, activeVersion: null, logLossDifference: null, aucDifference: null };
  }
  const a = evaluateModel(rows, active.probabilities, options);
  return {
    candidate: c,
    active: a,
    activeVersion: active.version,
    logLossDifference: c.logLoss - a.logLoss,
    aucDifference: tryOrNull(() =>
      rocAucDifference(rows.labels, candidate, active.probabilities, { confidence: options.confidence }),
    ),
  };
}

const fmt = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits);

/** The comparison as a plain-text table. */
export function comparisonTable(comparison: HoldoutComparison, candidateVersion: string): string {
  const rowOf = (name: string, m: ModelMetrics) => [
    name,
    m.rows,
    fmt(m.logLoss, 5),
    m.auc ? `${fmt(m.auc.auc)} [${fmt(m.auc.ci[0])}, ${fmt(m.auc.ci[1])}]` : '–',
    fmt(m.observedOverExpected, 3),
    fmt(m.ece, 4),
    fmt(m.ranking?.ndcg),
    fmt(m.ranking?.mrr),
    fmt(m.ranking?.precision),
  ];
  const k = comparison.candidate.ranking?.k ?? RANKING_K;
  const rows = [rowOf(candidateVersion, comparison.candidate)];
  if (comparison.active) rows.push(rowOf(`${comparison.activeVersion} (active)`, comparison.active));
  const lines = [
    textTable(
      ['model', 'rows', 'log loss', 'ROC AUC [95% CI]', 'obs/exp', 'ECE', `NDCG@${k}`, 'MRR', `P@${k}`],
      rows,
    ),
  ];
  if (comparison.logLossDifference !== null) {
    lines.push(`log loss, candidate − active: ${fmt(comparison.logLossDifference, 5)}`);
  }
  const d = comparison.aucDifference;
  if (d) {
    lines.push(
      `ROC AUC, candidate − active: ${fmt(d.difference)} [${fmt(d.ci[0])}, ${fmt(d.ci[1])}] (DeLong, p = ${fmt(d.pValue, 3)})`,
    );
  }
  return lines.join('\n');
}

/** A reliability diagram (observed click rate against mean prediction per bin) of both models, as SVG. */
export function reliabilitySvg(comparison: HoldoutComparison, candidateVersion: string): string {
  const points = (m: ModelMetrics) => m.reliability.map((b) => [b.meanPredicted, b.observedRate] as const);
  const all = [comparison.candidate, ...(comparison.active ? [comparison.active] : [])];
  const top = Math.max(
    0.01,
    ...all.flatMap((m) => m.reliability.flatMap((b) => [b.meanPredicted, b.observedRate])),
  );
  const series = [
    { label: 'perfect calibration', points: [[0, 0] as const, [top, top] as const], dashed: true },
    { label: candidateVersion, points: points(comparison.candidate) },
  ];
  if (comparison.active) {
    series.push({ label: `${comparison.activeVersion} (active)`, points: points(comparison.active) });
  }
  return renderSvg(`Reliability on the holdout (${comparison.candidate.rows} rows)`, [
    {
      title: 'observed click rate per bin of predictions (equal-mass bins)',
      xLabel: 'mean predicted p(click)',
      yLabel: 'observed click rate',
      series,
    },
  ]);
}
