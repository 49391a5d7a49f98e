/**
 * Columns the trainers do not learn from (train.heldOutColumns, e.g. the exposure counts): the trained and
 * served model of either kind does not move when such a column does, and an unknown column is refused.
 */
import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/errors/index.ts';
import { createRng } from '../../src/stats/rng.ts';
import { predictRaw } from '../../src/train/network.ts';
import { heldOutColumns, servedNetwork, trainModel } from '../../src/train/train-model.ts';
import type { TrainingSet } from '../../src/train/training-set.ts';

/** Three columns; the click depends on columns 0 and 1 (column 1 strongly). */
function trainingSet(rows: number): TrainingSet {
  const rng = createRng(4);
  const width = 3;
  const features = new Float32Array(rows * width);
  const labels = new Uint8Array(rows);
  const holdout = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) features[r * width + c] = rng.normal();
    const z = -1.5 + 0.5 * features[r * width] + 1.5 * features[r * width + 1];
    labels[r] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    holdout[r] = r >= rows * 0.8 ? 1 : 0;
  }
  return {
    width,
    rows,
    features,
    slots: new Int32Array(rows),
    labels,
    holdout,
    shownAtMs: new Float64Array(rows),
    loggedScores: new Float64Array(rows),
    requestIds: Array.from({ length: rows }, (_, r) => `r${r}`),
    itemIds: Array.from({ length: rows }, (_, r) => `i${r}`),
    window: { fromMs: 0, toMs: 1, holdoutStartMs: 1 },
    counts: {} as TrainingSet['counts'],
    carouselOffsets: [],
  };
}

const MLP = { hidden: [8], learningRate: 0.01, batchSize: 64, maxEpochs: 5, patience: 2, l2: 0 };

describe('held-out columns', () => {
  const set = trainingSet(4000);
  const served = (kind: 'logistic' | 'mlp', held: number[]) =>
    servedNetwork(
      trainModel(set, { kind, seed: 1, l2: 1e-4, validationFraction: 0.1, mlp: MLP, heldOutColumns: held }),
    );
  const score = (network: ReturnType<typeof served>, row: number[]) =>
    predictRaw(network, Float32Array.from(row), 3)[0];

  it('leave the served model of either kind unmoved by the column, which it learns from otherwise', () => {
    for (const kind of ['logistic', 'mlp'] as const) {
      const without = served(kind, [1]);
      expect(score(without, [0.3, -2, 0.1])).toBeCloseTo(score(without, [0.3, 2, 0.1]), 12);
      const withIt = served(kind, []);
      expect(score(withIt, [0.3, 2, 0.1]) - score(withIt, [0.3, -2, 0.1])).toBeGreaterThan(0.1);
    }
  });

  it('are named by the feature spec, and an unknown name is refused', () => {
    expect(heldOutColumns(['a', 'b', 'c'], ['c', 'a'])).toEqual([2, 0]);
    let error: unknown;
    try {
      heldOutColumns(['a', 'b'], ['item.log1p_impressions']);
    } catch (e) {
      error = e;
    }
    expect(hasCode(error, 'CROUPIER_ERR_TRAIN_OPTION')).toBe(true);
  });
});
