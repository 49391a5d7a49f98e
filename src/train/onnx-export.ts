/**
 * A trained network as an ONNX model (opset 13) written with onnx-proto, and the parity check that stands
 * between a trained model and the registry: ONNX Runtime's output on the holdout rows must equal the
 * trainer's predictions to within a tolerance (1e-5), or the model is refused.
 *
 * Graph: per layer MatMul(x, W) → Add(b) → Relu, the last one → Sigmoid; input float32 [batch, columns],
 * output float32 [batch, 1], the names the feature spec gives.
 */
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { CroupierError } from '../errors/index.ts';
import { encodeFloatModel } from '../scoring/onnx-model-builder.ts';
import type { Network } from './network.ts';

const { onnx } = onnxProto;

export interface ExportOptions {
  inputName: string;
  outputName: string;
  docString?: string;
  /** Stored as `metadata_props` (version, feature spec hash, …). */
  metadata?: Record<string, string>;
}

function floatTensor(name: string, dims: number[], values: Float64Array) {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new CroupierError(
        'CROUPIER_ERR_MODEL_INVALID',
        `${name}[${i}] is not finite: the training diverged`,
        {
          tensor: name,
          index: i,
        },
      );
    }
  }
  return onnx.TensorProto.create({
    name,
    dataType: onnx.TensorProto.DataType.FLOAT,
    dims,
    floatData: Array.from(values),
  });
}

/** Serialized ONNX bytes of a network over raw feature columns. */
export function exportNetwork(network: Network, options: ExportOptions): Uint8Array {
  const nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  const initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  let current = options.inputName;
  network.layers.forEach((layer, l) => {
    const last = l === network.layers.length - 1;
    initializers.push(floatTensor(`w${l}`, [layer.inputs, layer.outputs], layer.weights));
    initializers.push(floatTensor(`b${l}`, [layer.outputs], layer.bias));
    nodes.push(onnx.NodeProto.create({ opType: 'MatMul', input: [current, `w${l}`], output: [`mm${l}`] }));
    nodes.push(onnx.NodeProto.create({ opType: 'Add', input: [`mm${l}`, `b${l}`], output: [`z${l}`] }));
    const out = last ? options.outputName : `a${l}`;
    nodes.push(onnx.NodeProto.create({ opType: last ? 'Sigmoid' : 'Relu', input: [`z${l}`], output: [out] }));
    current = out;
  });
  return encodeFloatModel(
    {
      name: 'croupier_click_model',
      columns: network.layers[0].inputs,
      initializer: initializers,
      node: nodes,
    },
    { ...options, producerName: 'croupier train' },
  );
}

export interface ParityResult {
  passed: boolean;
  rows: number;
  maxAbsDiff: number;
  tolerance: number;
}

/** Scores x (rows × width) with ONNX Runtime on the CPU, in batches. */
export async function scoreWithOnnx(
  bytes: Uint8Array,
  x: Float32Array,
  width: number,
  names: { input: string; output: string },
  batchRows = 65_536,
): Promise<Float32Array> {
  const rows = Math.floor(x.length / width);
  const out = new Float32Array(rows);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  try {
    for (let start = 0; start < rows; start += batchRows) {
      const n = Math.min(batchRows, rows - start);
      const input = new ort.Tensor('float32', x.subarray(start * width, (start + n) * width), [n, width]);
      const result = await session.run({ [names.input]: input });
      out.set((result[names.output] as ort.Tensor).data as Float32Array, start);
    }
  } finally {
    await session.release();
  }
  return out;
}

/** ONNX Runtime's predictions of `bytes` on x against `expected` (the trainer's). */
export async function checkParity(
  bytes: Uint8Array,
  x: Float32Array,
  width: number,
  expected: Float64Array,
  names: { input: string; output: string },
  tolerance: number,
): Promise<ParityResult> {
  const scores = await scoreWithOnnx(bytes, x, width, names);
  let maxAbsDiff = 0;
  for (let r = 0; r < scores.length; r++) {
    const diff = Math.abs(scores[r] - expected[r]);
    if (!(diff <= maxAbsDiff)) maxAbsDiff = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
  }
  return { passed: maxAbsDiff <= tolerance, rows: scores.length, maxAbsDiff, tolerance };
}
