import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/errors/index.ts';
import { calibration, normalCdf, rocAuc, rocAucDifference, rocAucInterval } from '../../src/stats/index.ts';
import { createRng } from '../../src/stats/rng.ts';

/** DeLong's variance from its definition: ψ over every positive–negative pair (O(m·n)). */
function bruteDeLong(labels: number[], a: number[], b: number[]) {
  const pos = labels.flatMap((y, i) => (y === 1 ? [i] : []));
  const neg = labels.flatMap((y, i) => (y === 0 ? [i] : []));
  const psi = (x: number, y: number) => (x > y ? 1 : x === y ? 0.5 : 0);
  const parts = (s: number[]) => ({
    v10: pos.map((i) => neg.reduce((t, j) => t + psi(s[i], s[j]), 0) / neg.length),
    v01: neg.map((j) => pos.reduce((t, i) => t + psi(s[i], s[j]), 0) / pos.length),
  });
  const cov = (x: number[], y: number[]) => {
    const mx = x.reduce((t, v) => t + v, 0) / x.length;
    const my = y.reduce((t, v) => t + v, 0) / y.length;
    return x.reduce((t, v, k) => t + (v - mx) * (y[k] - my), 0) / (x.length - 1);
  };
  const pa = parts(a);
  const pb = parts(b);
  const varA = cov(pa.v10, pa.v10) / pos.length + cov(pa.v01, pa.v01) / neg.length;
  const varDiff =
    (cov(pa.v10, pa.v10) + cov(pb.v10, pb.v10) - 2 * cov(pa.v10, pb.v10)) / pos.length +
    (cov(pa.v01, pa.v01) + cov(pb.v01, pb.v01) - 2 * cov(pa.v01, pb.v01)) / neg.length;
  return { seA: Math.sqrt(varA), seDiff: Math.sqrt(varDiff) };
}

function binormal(n: number, seed: number, shift: number) {
  const rng = createRng(seed);
  const labels: number[] = [];
  const scores: number[] = [];
  const other: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = rng.next() < 0.3 ? 1 : 0;
    labels.push(y);
    const s = rng.normal() + shift * y;
    scores.push(Math.round(s * 4) / 4); // coarse scores: ties
    other.push(s + rng.normal() * 0.8);
  }
  return { labels, scores, other };
}

describe('ROC AUC intervals (DeLong)', () => {
  it('match the variance from the definition, ties included', () => {
    const { labels, scores, other } = binormal(300, 1, 1);
    const brute = bruteDeLong(labels, scores, other);
    const one = rocAucInterval(labels, scores);
    expect(one.auc).toBeCloseTo(rocAuc(labels, scores), 12);
    expect(one.se).toBeCloseTo(brute.seA, 12);
    const diff = rocAucDifference(labels, scores, other);
    expect(diff.se).toBeCloseTo(brute.seDiff, 12);
    expect(diff.difference).toBeCloseTo(rocAuc(labels, scores) - rocAuc(labels, other), 12);
  });

  it('cover the true AUC about 95 % of the time', () => {
    const truth = normalCdf(1 / Math.SQRT2); // binormal, unit shift
    let covered = 0;
    const runs = 300;
    for (let seed = 1; seed <= runs; seed++) {
      const rng = createRng(seed);
      const labels: number[] = [];
      const scores: number[] = [];
      for (let i = 0; i < 200; i++) {
        const y = i % 3 === 0 ? 1 : 0;
        labels.push(y);
        scores.push(rng.normal() + y);
      }
      const { ci } = rocAucInterval(labels, scores);
      if (ci[0] <= truth && truth <= ci[1]) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.91);
    expect(covered / runs).toBeLessThan(0.99);
  });

  it('see no difference between a model and itself', () => {
    const { labels, scores } = binormal(200, 2, 1);
    const diff = rocAucDifference(labels, scores, scores);
    expect(diff).toMatchObject({ difference: 0, se: 0, pValue: 1 });
  });

  it('refuse labels with fewer than two of a class', () => {
    const error = (() => {
      try {
        rocAucInterval([1, 0, 0], [0.9, 0.1, 0.2]);
      } catch (e) {
        return e;
      }
    })();
    expect(hasCode(error, 'CROUPIER_ERR_STATS_INVALID_ARGUMENT')).toBe(true);
    expect(String(error)).toMatch(/1 positive/);
  });
});

describe('calibration', () => {
  it('computes observed over expected, ECE and the bins of a small case by hand', () => {
    const labels = [0, 0, 1, 1];
    const p = [0.1, 0.3, 0.5, 0.9];
    const c = calibration(labels, p, { bins: 2 });
    expect(c.observedOverExpected).toBeCloseTo(2 / 1.8, 12);
    expect(c.bins).toEqual([
      { lower: 0.1, upper: 0.3, count: 2, meanPredicted: 0.2, observedRate: 0 },
      { lower: 0.5, upper: 0.9, count: 2, meanPredicted: 0.7, observedRate: 1 },
    ]);
    expect(c.ece).toBeCloseTo(0.5 * 0.2 + 0.5 * 0.3, 12);
    expect(c.maxGap).toBeCloseTo(0.3, 12);
  });

  it('finds calibrated predictions calibrated and doubled ones off by half', () => {
    const rng = createRng(9);
    const labels: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const pi = 0.01 + 0.2 * rng.next() ** 2;
      p.push(pi);
      labels.push(rng.next() < pi ? 1 : 0);
    }
    const good = calibration(labels, p);
    expect(Math.abs(good.observedOverExpected - 1)).toBeLessThan(0.05);
    expect(good.ece).toBeLessThan(0.01);
    const doubled = calibration(
      labels,
      p.map((x) => 2 * x),
    );
    expect(doubled.observedOverExpected).toBeCloseTo(0.5, 1);
    expect(doubled.ece).toBeGreaterThan(0.04);
  });

  it('bins by equal width on request', () => {
    const c = calibration([0, 1, 0, 1], [0.05, 0.15, 0.12, 0.95], { strategy: 'uniform' });
    expect(c.bins.map((b) => b.count)).toEqual([1, 2, 1]);
  });
});
