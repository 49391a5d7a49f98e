import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/stats/rng.ts';
import { trainLogistic } from '../../src/train/logistic-trainer.ts';
import { trainMlp } from '../../src/train/mlp-trainer.ts';
import { fitStandardizer, foldStandardizer, type Network, predict } from '../../src/train/network.ts';
import { checkParity, exportNetwork } from '../../src/train/onnx-export.ts';

const NAMES = { input: 'features', output: 'p_click' };
const d = 5;
const n = 3000;
const rng = createRng(42);
const x = new Float32Array(n * d);
const y = new Uint8Array(n);
for (let r = 0; r < n; r++) {
  for (let c = 0; c < d; c++)
    x[r * d + c] = c === 4 ? Math.log1p(Math.floor(rng.next() * 8)) : rng.normal() * (c + 1);
  const z = -2 + 0.5 * x[r * d] - 0.3 * x[r * d + 1] * x[r * d + 2] * 0.2 - 0.6 * x[r * d + 4];
  y[r] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
}
const rows = Int32Array.from({ length: 2400 }, (_, i) => i);
const holdout = Int32Array.from({ length: 600 }, (_, i) => 2400 + i);
const standardizer = fitStandardizer(x, d, rows);
const fixedPosition = 1.1;

/** The holdout's rows without the position column (what the served model takes). */
function servedRows(): Float32Array {
  const out = new Float32Array(holdout.length * (d - 1));
  holdout.forEach((r, k) => {
    out.set(x.subarray(r * d, r * d + d - 1), k * (d - 1));
  });
  return out;
}

function holdoutX(): Float32Array {
  const out = new Float32Array(holdout.length * d);
  holdout.forEach((r, k) => {
    out.set(x.subarray(r * d, r * d + d), k * d);
  });
  return out;
}

async function parityOf(network: Network, tolerance = 1e-5) {
  const served = foldStandardizer(network, standardizer, new Map([[d - 1, fixedPosition]]));
  const bytes = exportNetwork(served, { inputName: NAMES.input, outputName: NAMES.output });
  const expected = predict(network, standardizer, holdoutX(), d, { column: d - 1, value: fixedPosition });
  return checkParity(bytes, servedRows(), d - 1, expected, NAMES, tolerance);
}

describe('ONNX export and its parity check', () => {
  it("ONNX Runtime's output of an exported logistic regression equals the trainer's to 1e-5", async () => {
    const fit = trainLogistic(x, d, y, rows, standardizer);
    const parity = await parityOf(fit.network);
    expect(parity.rows).toBe(600);
    expect(parity.passed).toBe(true);
    expect(parity.maxAbsDiff).toBeLessThan(1e-5);
  });

  it("ONNX Runtime's output of an exported MLP equals the trainer's to 1e-5", async () => {
    const fit = trainMlp(x, d, y, rows.subarray(0, 2000), rows.subarray(2000), standardizer, {
      hidden: [8, 4],
      learningRate: 0.01,
      batchSize: 64,
      maxEpochs: 5,
      patience: 2,
      l2: 0,
      seed: 3,
    });
    const parity = await parityOf(fit.network);
    expect(parity.passed).toBe(true);
    expect(parity.maxAbsDiff).toBeLessThan(1e-5);
  });

  it('refuses a model whose exported graph computes something else', async () => {
    const fit = trainLogistic(x, d, y, rows, standardizer);
    const served = foldStandardizer(fit.network, standardizer, new Map([[d - 1, fixedPosition]]));
    served.layers[0].bias[0] += 0.01; // the file and the trainer disagree
    const bytes = exportNetwork(served, { inputName: NAMES.input, outputName: NAMES.output });
    const expected = predict(fit.network, standardizer, holdoutX(), d, {
      column: d - 1,
      value: fixedPosition,
    });
    const parity = await checkParity(bytes, servedRows(), d - 1, expected, NAMES, 1e-5);
    expect(parity.passed).toBe(false);
    expect(parity.maxAbsDiff).toBeGreaterThan(1e-5);
  });

  it('refuses to export non-finite weights', () => {
    const network: Network = {
      layers: [
        {
          inputs: 1,
          outputs: 1,
          weights: Float64Array.of(Number.NaN),
          bias: Float64Array.of(0),
          activation: 'sigmoid',
        },
      ],
    };
    expect(() => exportNetwork(network, { inputName: 'features', outputName: 'p_click' })).toThrow(
      /not finite/,
    );
  });
});
