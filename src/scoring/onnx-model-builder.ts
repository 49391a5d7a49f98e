/**
 * Writes a logistic-regression click model as an ONNX graph (opset 13): p = Sigmoid(MatMul(x, W) + b), with
 * x float32 [batch, columns], W [columns, 1], b [1] and p float32 [batch, 1]. Used by the default-model
 * generator and by tests that need valid or deliberately different models.
 */
import onnxProto from 'onnx-proto';
import { CroupierError } from '../errors/index.ts';

const { onnx } = onnxProto;

export interface LogisticModelOptions {
  /** One weight per input column. */
  weights: ArrayLike<number>;
  bias: number;
  inputName: string;
  outputName: string;
  /** Free text stored in the model (`doc_string`). */
  docString?: string;
  /** Stored as model metadata (`metadata_props`), e.g. the feature spec hash and version. */
  metadata?: Record<string, string>;
}

const OPSET = 13;
const IR_VERSION = 8;

function tensorType(dims: (number | string)[]): InstanceType<typeof onnx.TypeProto> {
  return onnx.TypeProto.create({
    tensorType: {
      elemType: onnx.TensorProto.DataType.FLOAT,
      shape: {
        dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
      },
    },
  });
}

/** Serialized ONNX model bytes of a logistic regression over `weights.length` columns. */
export function buildLogisticModel(options: LogisticModelOptions): Uint8Array {
  const columns = options.weights.length;
  if (columns < 1) {
    throw new CroupierError('CROUPIER_ERR_MODEL_INVALID', 'a logistic model needs at least one weight', {});
  }
  for (let i = 0; i < columns; i++) {
    if (!Number.isFinite(options.weights[i])) {
      throw new CroupierError('CROUPIER_ERR_MODEL_INVALID', `weight ${i} is not finite`, { column: i });
    }
  }
  return encodeFloatModel(
    {
      name: 'croupier_logistic',
      columns,
      initializer: [
        onnx.TensorProto.create({
          name: 'weights',
          dataType: onnx.TensorProto.DataType.FLOAT,
          dims: [columns, 1],
          floatData: Array.from(options.weights, Number),
        }),
        onnx.TensorProto.create({
          name: 'bias',
          dataType: onnx.TensorProto.DataType.FLOAT,
          dims: [1],
          floatData: [options.bias],
        }),
      ],
      node: [
        onnx.NodeProto.create({
          opType: 'MatMul',
          input: [options.inputName, 'weights'],
          output: ['logit_raw'],
        }),
        onnx.NodeProto.create({ opType: 'Add', input: ['logit_raw', 'bias'], output: ['logit'] }),
        onnx.NodeProto.create({ opType: 'Sigmoid', input: ['logit'], output: [options.outputName] }),
      ],
    },
    { ...options, producerName: 'croupier' },
  );
}

export interface FloatGraph {
  name: string;
  /** Input width: the graph reads float32 [batch, columns] and writes float32 [batch, 1]. */
  columns: number;
  initializer: InstanceType<typeof onnx.TensorProto>[];
  node: InstanceType<typeof onnx.NodeProto>[];
}

/**
 * Serialized ONNX bytes (opset 13) of a click model's graph: one float32 input [batch, columns] named
 * `inputName`, one float32 output [batch, 1] named `outputName`, with the doc string and metadata given.
 */
export function encodeFloatModel(
  graph: FloatGraph,
  options: {
    inputName: string;
    outputName: string;
    producerName: string;
    docString?: string;
    metadata?: Record<string, string>;
  },
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: options.producerName,
    producerVersion: '1',
    docString: options.docString ?? '',
    opsetImport: [{ domain: '', version: OPSET }],
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: onnx.GraphProto.create({
      name: graph.name,
      input: [
        onnx.ValueInfoProto.create({ name: options.inputName, type: tensorType(['batch', graph.columns]) }),
      ],
      output: [onnx.ValueInfoProto.create({ name: options.outputName, type: tensorType(['batch', 1]) })],
      initializer: graph.initializer,
      node: graph.node,
    }),
  });
  return onnx.ModelProto.encode(model).finish();
}
