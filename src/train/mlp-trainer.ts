/**
 * A small multi-layer perceptron (ReLU hidden layers, a sigmoid output) trained with mini-batch Adam on the
 * log loss, seeded, with early stopping on a validation slice. Pure: the same rows, options and seed give the
 * same network, bit for bit.
 *
 * Weights start He-normal from the seeded generator of src/stats; each epoch visits the training rows in a
 * fresh seeded shuffle. After every epoch the validation log loss is measured; training stops after
 * `patience` epochs without improvement and the best epoch's weights are returned.
 */
import { createRng } from '../stats/rng.ts';
import { type DenseLayer, type Network, type Standardizer, sigmoid } from './network.ts';

export interface MlpTrainOptions {
  hidden: readonly number[];
  learningRate: number;
  batchSize: number;
  maxEpochs: number;
  patience: number;
  /** L2 penalty on the weights (not the biases), added to the gradient. */
  l2: number;
  seed: number;
}

export interface MlpFit {
  network: Network;
  epochs: number;
  bestEpoch: number;
  /** Validation log loss after each epoch. */
  validationLoss: number[];
  stoppedEarly: boolean;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function initialLayers(d: number, hidden: readonly number[], seed: number, baseLogit: number): DenseLayer[] {
  const rng = createRng(seed);
  const sizes = [d, ...hidden, 1];
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l];
    const outputs = sizes[l + 1];
    const sd = Math.sqrt(2 / inputs);
    const weights = new Float64Array(inputs * outputs);
    for (let i = 0; i < weights.length; i++) weights[i] = rng.normal() * sd;
    const last = l + 2 === sizes.length;
    layers.push({
      inputs,
      outputs,
      weights,
      bias: last ? Float64Array.of(baseLogit) : new Float64Array(outputs),
      activation: last ? 'sigmoid' : 'relu',
    });
  }
  return layers;
}

function copyLayers(layers: readonly DenseLayer[]): DenseLayer[] {
  return layers.map((l) => ({
    ...l,
    weights: Float64Array.from(l.weights),
    bias: Float64Array.from(l.bias),
  }));
}

/** Mean log loss of the network over `rows`. */
function meanLoss(forward: (r: number) => number, y: Uint8Array, rows: ArrayLike<number>): number {
  let sum = 0;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    const logit = forward(r);
    sum += softplus(logit) - y[r] * logit;
  }
  return sum / Math.max(1, rows.length);
}

/**
 * Trains on `trainRows` of x (n × d) with labels y, stopping early on `validationRows`. Returns a network over
 * standardized columns (`standardizer`).
 */
export function trainMlp(
  x: Float32Array,
  d: number,
  y: Uint8Array,
  trainRows: ArrayLike<number>,
  validationRows: ArrayLike<number>,
  standardizer: Standardizer,
  options: MlpTrainOptions,
): MlpFit {
  let positives = 0;
  for (let k = 0; k < trainRows.length; k++) positives += y[trainRows[k]];
  const base = Math.min(1 - 1e-6, Math.max(1e-6, positives / Math.max(1, trainRows.length)));
  const layers = initialLayers(d, options.hidden, options.seed, Math.log(base / (1 - base)));
  const depth = layers.length;
  const { mean, scale } = standardizer;
  const rng = createRng(options.seed ^ 0x5bd1e995);

  // Activations per layer (input first), their gradients, and gradient / Adam moment buffers.
  const acts = [new Float64Array(d), ...layers.map((l) => new Float64Array(l.outputs))];
  const deltas = layers.map((l) => new Float64Array(l.outputs));
  const gradW = layers.map((l) => new Float64Array(l.weights.length));
  const gradB = layers.map((l) => new Float64Array(l.bias.length));
  const m1W = layers.map((l) => new Float64Array(l.weights.length));
  const m2W = layers.map((l) => new Float64Array(l.weights.length));
  const m1B = layers.map((l) => new Float64Array(l.bias.length));
  const m2B = layers.map((l) => new Float64Array(l.bias.length));

  const forward = (r: number): number => {
    const input = acts[0];
    const off = r * d;
    for (let c = 0; c < d; c++) input[c] = (x[off + c] - mean[c]) / scale[c];
    for (let l = 0; l < depth; l++) {
      const { inputs, outputs, weights, bias } = layers[l];
      const inp = acts[l];
      const out = acts[l + 1];
      for (let j = 0; j < outputs; j++) out[j] = bias[j];
      for (let i = 0; i < inputs; i++) {
        const a = inp[i];
        if (a === 0) continue;
        const row = i * outputs;
        for (let j = 0; j < outputs; j++) out[j] += a * weights[row + j];
      }
      if (l < depth - 1) for (let j = 0; j < outputs; j++) if (out[j] < 0) out[j] = 0;
    }
    return acts[depth][0];
  };

  const order = Int32Array.from({ length: trainRows.length }, (_, k) => trainRows[k]);
  let step = 0;
  let best = copyLayers(layers);
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  const validationLoss: number[] = [];
  let stale = 0;
  let epochs = 0;
  for (let epoch = 1; epoch <= options.maxEpochs; epoch++) {
    epochs = epoch;
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    for (let startRow = 0; startRow < order.length; startRow += options.batchSize) {
      const end = Math.min(order.length, startRow + options.batchSize);
      for (let l = 0; l < depth; l++) {
        gradW[l].fill(0);
        gradB[l].fill(0);
      }
      for (let k = startRow; k < end; k++) {
        const r = order[k];
        const logit = forward(r);
        deltas[depth - 1][0] = sigmoid(logit) - y[r];
        for (let l = depth - 1; l >= 0; l--) {
          const { inputs, outputs, weights } = layers[l];
          const delta = deltas[l];
          const inp = acts[l];
          const gw = gradW[l];
          const gb = gradB[l];
          for (let j = 0; j < outputs; j++) gb[j] += delta[j];
          for (let i = 0; i < inputs; i++) {
            const a = inp[i];
            if (a === 0) continue;
            const row = i * outputs;
            for (let j = 0; j < outputs; j++) gw[row + j] += a * delta[j];
          }
          if (l > 0) {
            const below = deltas[l - 1];
            for (let i = 0; i < inputs; i++) {
              if (inp[i] <= 0) {
                below[i] = 0;
                continue;
              }
              const row = i * outputs;
              let s = 0;
              for (let j = 0; j < outputs; j++) s += weights[row + j] * delta[j];
              below[i] = s;
            }
          }
        }
      }
      step++;
      const size = end - startRow;
      const lr = (options.learningRate * Math.sqrt(1 - BETA2 ** step)) / (1 - BETA1 ** step);
      for (let l = 0; l < depth; l++) {
        const layer = layers[l];
        adamUpdate(layer.weights, gradW[l], m1W[l], m2W[l], size, options.l2, lr);
        adamUpdate(layer.bias, gradB[l], m1B[l], m2B[l], size, 0, lr);
      }
    }
    const loss = meanLoss(forward, y, validationRows.length > 0 ? validationRows : trainRows);
    validationLoss.push(loss);
    if (loss < bestLoss - 1e-7) {
      bestLoss = loss;
      bestEpoch = epoch;
      best = copyLayers(layers);
      stale = 0;
    } else if (++stale >= options.patience) {
      break;
    }
  }
  return {
    network: { layers: best },
    epochs,
    bestEpoch,
    validationLoss,
    stoppedEarly: epochs < options.maxEpochs,
  };
}

function adamUpdate(
  params: Float64Array,
  grad: Float64Array,
  m1: Float64Array,
  m2: Float64Array,
  batch: number,
  l2: number,
  lr: number,
): void {
  for (let i = 0; i < params.length; i++) {
    const g = grad[i] / batch + l2 * params[i];
    m1[i] = BETA1 * m1[i] + (1 - BETA1) * g;
    m2[i] = BETA2 * m2[i] + (1 - BETA2) * g * g;
    params[i] -= (lr * m1[i]) / (Math.sqrt(m2[i]) + EPSILON);
  }
}
