/**
 * The position-based estimators on cases whose answer is known: every slate a logging policy can deal, each
 * counted with its probability (the bootstrap's multiplicity) and carrying its expected clicks under a
 * position-based click model, gives the exact expectation of each estimator; then a seeded sample of clicks.
 */
import { describe, expect, it } from 'vitest';
import {
  estimateExamination,
  type PositionBasedRows,
  positionBasedEstimates,
  positionBasedWeights,
} from '../../src/shadow/position-based.ts';
import { createRng } from '../../src/stats/rng.ts';

/** Attractiveness q(a) of three items, the slots' examination b(s), and a model's p̂ that ranks them wrong. */
const Q = [0.3, 0.2, 0.1];
const B = [1, 0.6, 0.4];
const SCORE = [0.12, 0.22, 0.25];

const PERMUTATIONS = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

/** Plackett-Luce: the probability of dealing `slate` with weights `v` (each slot drawn in proportion among the rest). */
function plackettLuce(v: readonly number[], slate: readonly number[]): number {
  let left = v.reduce((a, b) => a + b, 0);
  let p = 1;
  for (const a of slate) {
    p *= v[a] / left;
    left -= v[a];
  }
  return p;
}

/** P(a at s) of a distribution over slates. */
function slotProbabilities(
  slates: readonly (readonly number[])[],
  probability: readonly number[],
): number[][] {
  const out = Q.map(() => B.map(() => 0));
  slates.forEach((slate, k) => {
    slate.forEach((a, s) => {
      out[a][s] += probability[k];
    });
  });
  return out;
}

interface Log {
  rows: PositionBasedRows;
  carousel: Int32Array;
  slot: Int32Array;
  multiplicity: Float64Array;
}

/**
 * Every slate of `slates` as one carousel counted with its logging probability, each impression's reward its
 * expected click b(s)·q(a), and the rows of both policies' slot probabilities.
 */
function exactLog(
  slates: readonly (readonly number[])[],
  logging: readonly number[],
  target: readonly number[][],
): Log {
  const width = B.length;
  const mu = slotProbabilities(slates, logging);
  const impressions = slates.length * width;
  const rows: PositionBasedRows = {
    width,
    logging: new Float64Array(impressions * width),
    target: new Float64Array(impressions * width),
    clicks: new Float64Array(impressions),
    score: new Float64Array(impressions),
    expectedScore: new Float64Array(impressions),
  };
  const carousel = new Int32Array(impressions);
  const slot = new Int32Array(impressions);
  let j = 0;
  slates.forEach((slate, c) => {
    slate.forEach((a, s) => {
      carousel[j] = c;
      slot[j] = s;
      rows.logging.set(mu[a], j * width);
      rows.target.set(target[a], j * width);
      rows.clicks[j] = B[s] * Q[a];
      rows.score[j] = SCORE[a];
      rows.expectedScore[j] = target.reduce((sum, probability, i) => sum + probability[s] * SCORE[i], 0);
      j++;
    });
  });
  return { rows, carousel, slot, multiplicity: Float64Array.from(logging) };
}

/** The target's value per impression under the click model: Σ_s b(s) Σ_a π(a at s) q(a) / slots. */
function truthOf(target: readonly number[][]): number {
  let clicks = 0;
  target.forEach((row, a) => {
    row.forEach((p, s) => {
      clicks += p * B[s] * Q[a];
    });
  });
  return clicks / B.length;
}

/** The examination curve the log's clicks give, carousel c counted `multiplicity[c]` times (null: once each). */
function curveOf(log: Log, multiplicity: Float64Array | null): Float64Array {
  const width = B.length;
  return estimateExamination(
    log.rows,
    log.carousel,
    log.slot,
    multiplicity,
    new Float64Array(2 * width),
    new Float64Array(width),
  );
}

function estimate(log: Log, examination: Float64Array) {
  const weight = positionBasedWeights(
    log.rows,
    log.slot.length,
    examination,
    new Float64Array(log.slot.length),
  );
  return positionBasedEstimates(
    log.rows,
    log.carousel,
    log.slot,
    log.rows.clicks,
    log.multiplicity,
    weight,
    examination,
  );
}

/** Greedy by p̂: item 2, then 1, then 0, surely. */
const GREEDY = [
  [0, 0, 1],
  [0, 1, 0],
  [1, 0, 0],
];

describe('position-based estimators', () => {
  it('weigh an item by its examination-weighted presence under the candidate over the logger', () => {
    // Two items, two slots, a uniform logger; the candidate puts item 0 first. b = (1, 0.5):
    // π_b(0) = 1, μ_b(0) = 0.75; π_b(1) = 0.5, μ_b(1) = 0.75.
    const rows: PositionBasedRows = {
      width: 2,
      logging: Float64Array.from([0.5, 0.5, 0.5, 0.5]),
      target: Float64Array.from([1, 0, 0, 1]),
      clicks: new Float64Array(2),
      score: new Float64Array(2),
      expectedScore: new Float64Array(2),
    };
    const weight = positionBasedWeights(rows, 2, Float64Array.from([1, 0.5]), new Float64Array(2));
    expect(weight[0]).toBeCloseTo(4 / 3, 12);
    expect(weight[1]).toBeCloseTo(2 / 3, 12);
  });

  it("recover the examination curve from a logger's expected clicks, relative to the first slot", () => {
    const logging = PERMUTATIONS.map((slate) => plackettLuce([1, 2, 4], slate));
    const log = exactLog(PERMUTATIONS, logging, GREEDY);
    const b = curveOf(log, log.multiplicity);
    for (let s = 0; s < B.length; s++) expect(b[s]).toBeCloseTo(B[s] / B[0], 12);
  });

  it('give the exact value of a deterministic candidate that the logger rarely deals slot by slot', () => {
    // The logger deals item 2 first with probability 4/7 and greedy's exact slate [2, 1, 0] with 4/7 · 2/3;
    // every estimator's expectation is the candidate's value, the curve included (estimated from the log).
    const logging = PERMUTATIONS.map((slate) => plackettLuce([1, 2, 4], slate));
    const log = exactLog(PERMUTATIONS, logging, GREEDY);
    const b = curveOf(log, log.multiplicity);
    const got = estimate(log, b);
    const truth = truthOf(GREEDY);
    expect(truth).toBeCloseTo((0.1 + 0.6 * 0.2 + 0.4 * 0.3) / 3, 12);
    expect(got.ips).toBeCloseTo(truth, 12);
    expect(got.snips).toBeCloseTo(truth, 12);
    expect(got.dr).toBeCloseTo(truth, 12);
  });

  it('estimate an item in a slot the logger never deals it in from its clicks in other slots', () => {
    // The logger keeps item 2 last; the candidate puts it first. No (item 2, slot 0) outcome is in the log, so
    // the item-and-slot estimators cannot see it, but its clicks in slot 2 estimate q(2) under the curve.
    const slates = [
      [0, 1, 2],
      [1, 0, 2],
    ];
    const logging = [0.3, 0.7];
    const log = exactLog(slates, logging, GREEDY);
    const mu = slotProbabilities(slates, logging);
    expect(mu[2][0]).toBe(0);
    const got = estimate(log, Float64Array.from(B));
    const truth = truthOf(GREEDY);
    expect(got.ips).toBeCloseTo(truth, 12);
    expect(got.snips).toBeCloseTo(truth, 12);
    expect(got.dr).toBeCloseTo(truth, 12);
  });

  it('give the logged value when the candidate is the logger', () => {
    const logging = PERMUTATIONS.map((slate) => plackettLuce([3, 1, 2], slate));
    const mu = slotProbabilities(PERMUTATIONS, logging);
    const log = exactLog(PERMUTATIONS, logging, mu);
    const weight = positionBasedWeights(
      log.rows,
      log.slot.length,
      Float64Array.from(B),
      new Float64Array(18),
    );
    for (const w of weight) expect(w).toBeCloseTo(1, 12);
    const got = estimate(log, Float64Array.from(B));
    expect(got.ips).toBeCloseTo(truthOf(mu), 12);
    expect(got.snips).toBeCloseTo(truthOf(mu), 12);
  });

  it('land near the truth on sampled clicks, with a model that ranks the items wrong', () => {
    // 40,000 carousels dealt by the Plackett-Luce logger, clicks drawn from the position-based model. The
    // estimates' sd at this size is about 0.002 (of a value of 0.12); the tolerance is 0.006.
    const rng = createRng(13);
    const v = [1, 2, 4];
    const carousels = 40_000;
    const cumulative: number[] = [];
    const logging = PERMUTATIONS.map((slate) => plackettLuce(v, slate));
    logging.reduce((sum, p, k) => {
      cumulative[k] = sum + p;
      return sum + p;
    }, 0);
    const dealt: number[][] = [];
    for (let c = 0; c < carousels; c++) {
      const u = rng.next();
      const k = cumulative.findIndex((x) => u < x);
      dealt.push(PERMUTATIONS[k === -1 ? PERMUTATIONS.length - 1 : k]);
    }
    const log = exactLog(
      dealt,
      dealt.map(() => 1),
      GREEDY,
    );
    // Each row holds the logger's real probabilities (not the sample's), and each reward one drawn click.
    const mu = slotProbabilities(PERMUTATIONS, logging);
    for (let j = 0; j < log.slot.length; j++) {
      const a = dealt[log.carousel[j]][log.slot[j]];
      log.rows.logging.set(mu[a], j * B.length);
      log.rows.clicks[j] = rng.next() < B[log.slot[j]] * Q[a] ? 1 : 0;
    }
    const b = curveOf(log, null);
    expect(Math.abs(b[1] - B[1])).toBeLessThan(0.05);
    expect(Math.abs(b[2] - B[2])).toBeLessThan(0.05);
    const got = estimate({ ...log, multiplicity: new Float64Array(carousels).fill(1) }, b);
    const truth = truthOf(GREEDY);
    expect(Math.abs(got.ips - truth)).toBeLessThan(0.006);
    expect(Math.abs(got.snips - truth)).toBeLessThan(0.006);
    expect(Math.abs(got.dr - truth)).toBeLessThan(0.006);
  });
});
