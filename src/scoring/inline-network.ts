/**
 * A small dense click model evaluated in the gateway's own thread, beside ONNX Runtime. An ONNX Runtime run is
 * an asynchronous call: its result comes back through the event loop, behind whatever else the loop has to do.
 * Under load that wait, not the arithmetic, is most of a carousel's server time (`croupier_decision_step_seconds
 * {step="scoring"}`: a mean of several milliseconds for a logistic model that needs 30 multiply-adds a row). A
 * model whose graph is a chain of dense layers — MatMul(x, W) → Add(b) → Relu, the last → Sigmoid, the graphs
 * `npm run model:build` and `croupier train` write — and that costs at most `INLINE_MAX_MULTIPLY_ADDS` per row
 * is scored synchronously here instead, in float64 and rounded to float32 at the end.
 *
 * It is the same model: the registry still holds only the ONNX file, ONNX Runtime still loads and probes it, and
 * the inline evaluation is used only when it agrees with ONNX Runtime on the probe rows and on seeded rows
 * within `INLINE_PARITY_TOLERANCE`. Any other graph, a GPU provider, or `model.inline: off` leaves scoring to
 * ONNX Runtime.
 */
import onnxProto from 'onnx-proto';
import type { FeatureSpec } from './feature-spec.ts';

const { onnx } = onnxProto;

/** Largest model evaluated inline, in multiply-adds per row (a logistic model over 30 columns needs 30). */
export const INLINE_MAX_MULTIPLY_ADDS = 4096;
/** Largest difference from ONNX Runtime's scores with which the inline evaluation may serve. */
export const INLINE_PARITY_TOLERANCE = 1e-5;

interface DenseLayer {
  readonly inputs: number;
  readonly outputs: number;
  /** Row-major [inputs, outputs], as the ONNX initializer holds it. */
  readonly weights: Float64Array;
  readonly bias: Float64Array;
  readonly activation: 'relu' | 'sigmoid';
}

/** A dense network read from an ONNX graph, or why it cannot be evaluated inline. */
export type InlineParse = { network: InlineNetwork } | { reason: string };

export class InlineNetwork {
  private readonly buffers: [Float64Array, Float64Array];

  constructor(private readonly layers: readonly DenseLayer[]) {
    const widest = Math.max(...layers.map((l) => Math.max(l.inputs, l.outputs)));
    this.buffers = [new Float64Array(widest), new Float64Array(widest)];
  }

  /** Multiply-adds per row. */
  get cost(): number {
    return this.layers.reduce((sum, l) => sum + l.inputs * l.outputs, 0);
  }

  get depth(): number {
    return this.layers.length;
  }

  /** Scores `rows` rows of `matrix` (row-major) into `out`. */
  score(matrix: Float32Array, rows: number, out: Float32Array): void {
    const layers = this.layers;
    const first = layers[0];
    const width = first.inputs;
    const [a, b] = this.buffers;
    for (let r = 0; r < rows; r++) {
      // The first layer reads the row in place (float32), each later one the previous layer's output (float64).
      const at = r * width;
      const { outputs, weights, bias } = first;
      if (outputs === 1) {
        let z = bias[0];
        for (let i = 0; i < width; i++) z += matrix[at + i] * weights[i];
        a[0] = z;
      } else {
        for (let j = 0; j < outputs; j++) a[j] = bias[j];
        for (let i = 0; i < width; i++) {
          const x = matrix[at + i];
          if (x !== 0) accumulate(a, x, weights, i * outputs, outputs);
        }
      }
      activate(a, outputs, first.activation);
      let input = a;
      let output = b;
      for (let l = 1; l < layers.length; l++) {
        const layer = layers[l];
        for (let j = 0; j < layer.outputs; j++) output[j] = layer.bias[j];
        for (let i = 0; i < layer.inputs; i++) {
          const x = input[i];
          if (x !== 0) accumulate(output, x, layer.weights, i * layer.outputs, layer.outputs);
        }
        activate(output, layer.outputs, layer.activation);
        const swap = input;
        input = output;
        output = swap;
      }
      out[r] = input[0];
    }
  }
}

/** output[j] += x · weights[row + j] for j < outputs. */
function accumulate(
  output: Float64Array,
  x: number,
  weights: Float64Array,
  row: number,
  outputs: number,
): void {
  for (let j = 0; j < outputs; j++) output[j] += x * weights[row + j];
}

function activate(values: Float64Array, n: number, activation: 'relu' | 'sigmoid'): void {
  if (activation === 'relu') {
    for (let j = 0; j < n; j++) if (values[j] < 0) values[j] = 0;
  } else {
    for (let j = 0; j < n; j++) values[j] = 1 / (1 + Math.exp(-values[j]));
  }
}

type Tensor = onnxProto.onnx.ITensorProto;

function values(tensor: Tensor): Float64Array | null {
  if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) return null;
  if (tensor.floatData !== null && tensor.floatData !== undefined && tensor.floatData.length > 0) {
    return Float64Array.from(tensor.floatData);
  }
  const raw = tensor.rawData;
  if (raw === undefined || raw === null || raw.length % 4 !== 0) return null;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const out = new Float64Array(raw.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/**
 * Reads `bytes` as a chain of dense layers over `spec`'s input and output (see the file comment), or says why
 * it is not one.
 */
export function parseInlineNetwork(bytes: Uint8Array, spec: FeatureSpec): InlineParse {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    return { reason: `not readable as ONNX: ${(error as Error).message}` };
  }
  const graph = model.graph;
  if (graph === null || graph === undefined) return { reason: 'no graph' };
  const initializers = new Map<string, Tensor>();
  for (const t of graph.initializer ?? []) if (t.name) initializers.set(t.name, t);
  const nodes = (graph.node ?? []).map((node) => ({
    opType: node.opType ?? '',
    input: node.input ?? [],
    output: node.output ?? [],
  }));
  if (nodes.length === 0 || nodes.length % 3 !== 0) {
    return { reason: `${nodes.length} nodes, not MatMul → Add → activation per layer` };
  }
  const layers: DenseLayer[] = [];
  let current = spec.input;
  let width = spec.width;
  for (let n = 0; n < nodes.length; n += 3) {
    const [matmul, add, act] = [nodes[n], nodes[n + 1], nodes[n + 2]];
    const last = n + 3 === nodes.length;
    if (matmul.opType !== 'MatMul' || matmul.input.length !== 2 || matmul.input[0] !== current) {
      return { reason: `node ${n} is ${matmul.opType}, not MatMul of ${current}` };
    }
    const w = initializers.get(matmul.input[1]);
    const weights = w === undefined ? null : values(w);
    const dims = w?.dims?.map(Number) ?? [];
    if (weights === null || dims.length !== 2 || dims[0] !== width || weights.length !== dims[0] * dims[1]) {
      return { reason: `node ${n}: the weights are not a float [${width}, k] initializer` };
    }
    const outputs = dims[1];
    if (add.opType !== 'Add' || add.input.length !== 2 || !add.input.includes(matmul.output[0])) {
      return { reason: `node ${n + 1} is ${add.opType}, not Add of ${matmul.output[0]}` };
    }
    const b = initializers.get(add.input[0] === matmul.output[0] ? add.input[1] : add.input[0]);
    const bias = b === undefined ? null : values(b);
    if (bias === null || bias.length !== outputs) {
      return { reason: `node ${n + 1}: the bias is not a float [${outputs}] initializer` };
    }
    const wanted = last ? 'Sigmoid' : 'Relu';
    if (act.opType !== wanted || act.input.length !== 1 || act.input[0] !== add.output[0]) {
      return { reason: `node ${n + 2} is ${act.opType}, not ${wanted} of ${add.output[0]}` };
    }
    layers.push({ inputs: width, outputs, weights, bias, activation: last ? 'sigmoid' : 'relu' });
    current = act.output[0];
    width = outputs;
  }
  if (current !== spec.output || width !== 1) {
    return { reason: `the chain ends in ${current} [${width}], not ${spec.output} [1]` };
  }
  const network = new InlineNetwork(layers);
  if (network.cost > INLINE_MAX_MULTIPLY_ADDS) {
    return { reason: `${network.cost} multiply-adds a row, over ${INLINE_MAX_MULTIPLY_ADDS}` };
  }
  return { network };
}
