/**
 * The models croupier trains, as plain data: a stack of dense layers (ReLU hidden layers, one sigmoid output)
 * over standardized inputs. A logistic regression is the one-layer case. Pure.
 *
 * The trainers see standardized columns ((x − mean) / scale, fitted on the training rows); `foldStandardizer`
 * moves that into the first layer, so the served model takes the feature spec's raw columns.
 */

export type Activation = 'relu' | 'sigmoid';

export interface DenseLayer {
  inputs: number;
  outputs: number;
  /** inputs × outputs, row-major (`weights[i * outputs + j]`), as ONNX MatMul takes it. */
  weights: Float64Array;
  bias: Float64Array;
  activation: Activation;
}

export interface Network {
  layers: DenseLayer[];
}

/** Per-column centre and scale of the inputs. */
export interface Standardizer {
  mean: Float64Array;
  scale: Float64Array;
}

/** Column means and standard deviations of `rows` (indices) of x (n × d); a constant column gets scale 1. */
export function fitStandardizer(x: Float32Array, d: number, rows: ArrayLike<number>): Standardizer {
  const mean = new Float64Array(d);
  const m2 = new Float64Array(d);
  const n = rows.length;
  for (let k = 0; k < n; k++) {
    const base = rows[k] * d;
    for (let c = 0; c < d; c++) mean[c] += x[base + c];
  }
  for (let c = 0; c < d; c++) mean[c] /= Math.max(1, n);
  for (let k = 0; k < n; k++) {
    const base = rows[k] * d;
    for (let c = 0; c < d; c++) {
      const dev = x[base + c] - mean[c];
      m2[c] += dev * dev;
    }
  }
  const scale = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    const sd = Math.sqrt(m2[c] / Math.max(1, n));
    scale[c] = sd > 1e-12 ? sd : 1;
  }
  return { mean, scale };
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** The output layer's logit for one input vector (already standardized when the network expects it). */
export function forwardLogit(network: Network, input: Float64Array, scratch: Float64Array[]): number {
  let current = input;
  const { layers } = network;
  for (let l = 0; l < layers.length; l++) {
    const layer = layers[l];
    const out = scratch[l];
    const { inputs, outputs, weights, bias } = layer;
    for (let j = 0; j < outputs; j++) out[j] = bias[j];
    for (let i = 0; i < inputs; i++) {
      const a = current[i];
      if (a === 0) continue;
      const row = i * outputs;
      for (let j = 0; j < outputs; j++) out[j] += a * weights[row + j];
    }
    if (l < layers.length - 1 && layer.activation === 'relu') {
      for (let j = 0; j < outputs; j++) if (out[j] < 0) out[j] = 0;
    }
    current = out;
  }
  return current[0];
}

/** Buffers for `forwardLogit`, one per layer. */
export function scratchFor(network: Network): Float64Array[] {
  return network.layers.map((layer) => new Float64Array(layer.outputs));
}

/**
 * Click probabilities of rows of x (n × d, raw columns) under a network over standardized columns. `override`
 * replaces one column's value in every row (the slot held at its serving value).
 */
export function predict(
  network: Network,
  standardizer: Standardizer,
  x: Float32Array,
  d: number,
  override?: { column: number; value: number },
): Float64Array {
  const n = Math.floor(x.length / d);
  const out = new Float64Array(n);
  const input = new Float64Array(d);
  const scratch = scratchFor(network);
  const { mean, scale } = standardizer;
  for (let r = 0; r < n; r++) {
    const base = r * d;
    for (let c = 0; c < d; c++) input[c] = (x[base + c] - mean[c]) / scale[c];
    if (override !== undefined) {
      input[override.column] = (override.value - mean[override.column]) / scale[override.column];
    }
    out[r] = sigmoid(forwardLogit(network, input, scratch));
  }
  return out;
}

/**
 * The same network over raw columns: the first layer absorbs the standardization, and columns in `fixed` are
 * removed, their value folded into the first layer's bias. Exact up to floating-point rounding.
 */
export function foldStandardizer(
  network: Network,
  standardizer: Standardizer,
  fixed: ReadonlyMap<number, number> = new Map(),
): Network {
  const [first, ...rest] = network.layers;
  const { inputs, outputs } = first;
  const kept: number[] = [];
  for (let i = 0; i < inputs; i++) if (!fixed.has(i)) kept.push(i);
  const weights = new Float64Array(kept.length * outputs);
  const bias = Float64Array.from(first.bias);
  for (let i = 0; i < inputs; i++) {
    const s = standardizer.scale[i];
    const m = standardizer.mean[i];
    const value = fixed.get(i);
    const target = kept.indexOf(i);
    for (let j = 0; j < outputs; j++) {
      const w = first.weights[i * outputs + j] / s;
      bias[j] -= w * m;
      if (value !== undefined) bias[j] += w * value;
      else weights[target * outputs + j] = w;
    }
  }
  return { layers: [{ ...first, inputs: kept.length, weights, bias }, ...rest] };
}

/** Probabilities of a network over raw columns (no standardization), e.g. a folded one. */
export function predictRaw(network: Network, x: Float32Array, d: number): Float64Array {
  const n = Math.floor(x.length / d);
  const out = new Float64Array(n);
  const input = new Float64Array(d);
  const scratch = scratchFor(network);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < d; c++) input[c] = x[r * d + c];
    out[r] = sigmoid(forwardLogit(network, input, scratch));
  }
  return out;
}
