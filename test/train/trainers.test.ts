import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/errors/index.ts';
import { logisticRegression } from '../../src/stats/index.ts';
import { createRng } from '../../src/stats/rng.ts';
import { trainLogistic } from '../../src/train/logistic-trainer.ts';
import { type MlpTrainOptions, trainMlp } from '../../src/train/mlp-trainer.ts';
import { fitStandardizer, foldStandardizer, predict, predictRaw } from '../../src/train/network.ts';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** n rows of d standard-normal-ish columns (one shifted and scaled) with labels from `logit`. */
function dataset(n: number, d: number, seed: number, logit: (row: number[]) => number) {
  const rng = createRng(seed);
  const x = new Float32Array(n * d);
  const y = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const row: number[] = [];
    for (let c = 0; c < d; c++) {
      const v = c === 0 ? 3 + 2 * rng.normal() : rng.normal();
      x[r * d + c] = v;
      row.push(x[r * d + c]);
    }
    y[r] = rng.next() < sigmoid(logit(row)) ? 1 : 0;
  }
  return { x, y };
}

const range = (from: number, to: number) => Int32Array.from({ length: to - from }, (_, i) => from + i);

function logLoss(y: Uint8Array, p: Float64Array, rows: Int32Array): number {
  let s = 0;
  for (const r of rows) s -= y[r] === 1 ? Math.log(p[r]) : Math.log(1 - p[r]);
  return s / rows.length;
}

const MLP: MlpTrainOptions = {
  hidden: [16, 8],
  learningRate: 0.01,
  batchSize: 64,
  maxEpochs: 40,
  patience: 4,
  l2: 1e-5,
  seed: 7,
};

describe('regularised logistic regression', () => {
  it('gives the coefficients of the statistics library when unpenalised', () => {
    const d = 3;
    const { x, y } = dataset(3000, d, 1, (v) => -1 + 0.4 * v[0] - 0.8 * v[1] + 0.3 * v[2]);
    const rows = range(0, 3000);
    const standardizer = fitStandardizer(x, d, rows);
    const fit = trainLogistic(x, d, y, rows, standardizer, { l2: 0 });
    expect(fit.converged).toBe(true);
    const reference = logisticRegression(
      Array.from({ length: 3000 }, (_, r) => Array.from(x.subarray(r * d, r * d + d))),
      Array.from(y),
    );
    const folded = foldStandardizer(fit.network, standardizer).layers[0];
    expect(folded.bias[0]).toBeCloseTo(reference.coefficients[0].estimate, 6);
    for (let c = 0; c < d; c++) {
      expect(folded.weights[c]).toBeCloseTo(reference.coefficients[c + 1].estimate, 6);
    }
  });

  it('stays finite where one column separates the labels, which maximum likelihood refuses', () => {
    const d = 2;
    const n = 400;
    const rng = createRng(3);
    const x = new Float32Array(n * d);
    const y = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      x[r * d] = rng.normal();
      x[r * d + 1] = r % 5 === 0 ? 1 : 0; // rows with column 1 set are never clicked
      y[r] = x[r * d + 1] === 1 ? 0 : rng.next() < 0.3 ? 1 : 0;
    }
    const rows = range(0, n);
    const reference = (() => {
      try {
        logisticRegression(
          Array.from({ length: n }, (_, r) => [x[r * d], x[r * d + 1]]),
          Array.from(y),
        );
        return null;
      } catch (error) {
        return error;
      }
    })();
    expect(hasCode(reference, 'CROUPIER_ERR_STATS_SEPARATION')).toBe(true);
    const fit = trainLogistic(x, d, y, rows, fitStandardizer(x, d, rows), { l2: 1e-3 });
    expect(fit.converged).toBe(true);
    expect(Number.isFinite(fit.network.layers[0].weights[1])).toBe(true);
    expect(fit.network.layers[0].weights[1]).toBeLessThan(-1);
  });
});

describe('the MLP trainer', () => {
  const d = 4;
  // An interaction a linear model cannot express: the sign of v1·v2 decides.
  const truth = (v: number[]) => -1 + 2.5 * Math.tanh(v[1] * v[2]) + 0.3 * v[3];
  const { x, y } = dataset(6000, d, 11, truth);
  const train = range(0, 4000);
  const validation = range(4000, 5000);
  const holdout = range(5000, 6000);
  const standardizer = fitStandardizer(x, d, train);

  it('is deterministic for a seed and differs across seeds', () => {
    const small = { ...MLP, maxEpochs: 3 };
    const a = trainMlp(x, d, y, train, validation, standardizer, small);
    const b = trainMlp(x, d, y, train, validation, standardizer, small);
    const c = trainMlp(x, d, y, train, validation, standardizer, { ...small, seed: 8 });
    expect(a.network.layers[0].weights).toEqual(b.network.layers[0].weights);
    expect(a.validationLoss).toEqual(b.validationLoss);
    expect(c.network.layers[0].weights).not.toEqual(a.network.layers[0].weights);
  });

  it('learns an interaction the logistic regression cannot, judged on held-out rows', () => {
    const mlp = trainMlp(x, d, y, train, validation, standardizer, MLP);
    const lr = trainLogistic(x, d, y, train, standardizer);
    const pMlp = predict(mlp.network, standardizer, x, d);
    const pLr = predict(lr.network, standardizer, x, d);
    expect(logLoss(y, pMlp, holdout)).toBeLessThan(logLoss(y, pLr, holdout) - 0.02);
  });

  it('stops early on a validation slice and keeps the best epoch', () => {
    const noise = dataset(3000, d, 5, () => -1);
    const rows = range(0, 2000);
    const fit = trainMlp(noise.x, d, noise.y, rows, range(2000, 3000), fitStandardizer(noise.x, d, rows), {
      ...MLP,
      learningRate: 0.03,
      maxEpochs: 60,
      patience: 3,
    });
    expect(fit.stoppedEarly).toBe(true);
    expect(fit.epochs).toBe(fit.bestEpoch + 3);
    expect(Math.min(...fit.validationLoss)).toBe(fit.validationLoss[fit.bestEpoch - 1]);
  });
});

describe('folding standardization and a fixed column into the first layer', () => {
  it('predicts what the trained network predicts with that column held at its value', () => {
    const d = 4;
    const { x, y } = dataset(2000, d, 21, (v) => -1 + v[0] * 0.2 - v[3]);
    const rows = range(0, 2000);
    const standardizer = fitStandardizer(x, d, rows);
    const mlp = trainMlp(x, d, y, range(0, 1500), range(1500, 2000), standardizer, { ...MLP, maxEpochs: 3 });
    const fixed = 0.7;
    const served = foldStandardizer(mlp.network, standardizer, new Map([[3, fixed]]));
    expect(served.layers[0].inputs).toBe(3);
    const raw = new Float32Array(2000 * 3);
    for (let r = 0; r < 2000; r++) raw.set(x.subarray(r * d, r * d + 3), r * 3);
    const expected = predict(mlp.network, standardizer, x, d, { column: 3, value: fixed });
    const actual = predictRaw(served, raw, 3);
    for (let r = 0; r < 2000; r++) expect(Math.abs(actual[r] - expected[r])).toBeLessThan(1e-12);
  });
});
