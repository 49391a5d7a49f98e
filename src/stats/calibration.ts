/**
 * Calibration of predicted probabilities: observed over expected positives, the expected calibration error
 * (ECE: the row-weighted mean gap between the observed rate and the mean prediction per bin) and the bins of
 * a reliability diagram. Bins are equal-mass by default (each holds about n / bins rows, sorted by
 * prediction), which keeps every bin populated when predictions crowd near a low click-through rate; `uniform`
 * uses equal-width bins on [0, 1].
 */
import { checkProbability, checkSameLength, checkSample, invalidArgument, type Sample } from './errors.ts';

export interface CalibrationBin {
  /** Lowest and highest prediction in the bin. */
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

export interface Calibration {
  /** Σ labels / Σ predictions: 1 when the predictions add up to what happened. */
  observedOverExpected: number;
  observed: number;
  expected: number;
  /** Expected calibration error over the bins. */
  ece: number;
  /** Largest gap of a bin. */
  maxGap: number;
  bins: CalibrationBin[];
}

export function calibration(
  labels: Sample,
  probabilities: Sample,
  options: { bins?: number; strategy?: 'quantile' | 'uniform' } = {},
): Calibration {
  checkSample('labels', labels);
  checkSample('probabilities', probabilities);
  checkSameLength('labels', labels, 'probabilities', probabilities);
  const binCount = options.bins ?? 10;
  if (!(Number.isInteger(binCount) && binCount >= 1)) {
    invalidArgument('bins', `is ${binCount}: it must be an integer ≥ 1`);
  }
  const n = labels.length;
  let observed = 0;
  let expected = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) invalidArgument(`labels[${i}]`, `is ${y}: a label must be 0 or 1`, { index: i });
    checkProbability(`probabilities[${i}]`, probabilities[i]);
    observed += y;
    expected += probabilities[i];
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probabilities[a] - probabilities[b]);
  const binOf = (rank: number, p: number): number =>
    options.strategy === 'uniform'
      ? Math.min(binCount - 1, Math.floor(p * binCount))
      : Math.min(binCount - 1, Math.floor((rank * binCount) / n));
  const sums = Array.from({ length: binCount }, () => ({ count: 0, p: 0, y: 0, lower: 1, upper: 0 }));
  order.forEach((i, rank) => {
    const p = probabilities[i];
    const bin = sums[binOf(rank, p)];
    bin.count++;
    bin.p += p;
    bin.y += labels[i];
    bin.lower = Math.min(bin.lower, p);
    bin.upper = Math.max(bin.upper, p);
  });
  let ece = 0;
  let maxGap = 0;
  const bins: CalibrationBin[] = [];
  for (const s of sums) {
    if (s.count === 0) continue;
    const meanPredicted = s.p / s.count;
    const observedRate = s.y / s.count;
    const gap = Math.abs(observedRate - meanPredicted);
    ece += (s.count / n) * gap;
    maxGap = Math.max(maxGap, gap);
    bins.push({ lower: s.lower, upper: s.upper, count: s.count, meanPredicted, observedRate });
  }
  return {
    observedOverExpected: expected > 0 ? observed / expected : Number.NaN,
    observed,
    expected,
    ece,
    maxGap,
    bins,
  };
}
