/**
 * A small dense model is scored inline (in the calling thread) with the scores ONNX Runtime gives; any other
 * graph, a model over the size limit, or `inline: 'off'` is scored by ONNX Runtime.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.ts';
import { loadFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { INLINE_MAX_MULTIPLY_ADDS, parseInlineNetwork } from '../../src/scoring/inline-network.ts';
import { encodeFloatModel } from '../../src/scoring/onnx-model-builder.ts';
import { createOnnxScorer, type InlineMode } from '../../src/scoring/onnx-scorer.ts';
import { createRng } from '../../src/stats/rng.ts';
import type { Network } from '../../src/train/network.ts';
import { exportNetwork } from '../../src/train/onnx-export.ts';
import { entry, tempRegistry, writeManifest } from './support.ts';

const { onnx } = onnxProto;
const spec = await loadFeatureSpec('models/feature-spec.json');
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A seeded network of dense layers over the spec's columns with the given hidden widths. */
function network(hidden: number[], seed: number): Network {
  const rng = createRng(seed);
  const widths = [spec.width, ...hidden, 1];
  return {
    layers: widths.slice(1).map((outputs, l) => {
      const inputs = widths[l];
      const weights = new Float64Array(inputs * outputs);
      for (let i = 0; i < weights.length; i++) weights[i] = rng.normal() / Math.sqrt(inputs);
      const bias = new Float64Array(outputs);
      for (let j = 0; j < outputs; j++) bias[j] = 0.1 * rng.normal();
      return { inputs, outputs, weights, bias, activation: l === hidden.length ? 'sigmoid' : 'relu' };
    }),
  };
}

function bytesOf(net: Network): Uint8Array {
  return exportNetwork(net, { inputName: spec.input, outputName: spec.output });
}

/** Rows of seeded values, a quarter of them zero (as one-hot columns are). */
function matrix(rows: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const m = new Float32Array(rows * spec.width);
  for (let i = 0; i < m.length; i++) m[i] = rng.next() < 0.25 ? 0 : 3 * rng.normal();
  return m;
}

async function registryWith(bytes: Uint8Array): Promise<string> {
  const dir = await tempRegistry();
  dirs.push(dir);
  await writeFile(join(dir, 'm1.onnx'), bytes);
  await writeManifest(dir, { active: 'm1', models: [entry(spec, 'm1')] });
  return dir;
}

/** The scores of `rows` rows under `mode`, and what evaluated them. */
async function scoreWith(dir: string, mode: InlineMode, m: Float32Array, rows: number) {
  const scorer = await createOnnxScorer({ registryDir: dir, logger: silentLogger(), inline: mode });
  try {
    const { scores } = await scorer.score(m, rows);
    return { scores: Array.from(scores), runtime: scorer.model.runtime };
  } finally {
    await scorer.close();
  }
}

describe('inline scoring of a small dense model', () => {
  it('gives the default model the scores ONNX Runtime gives', async () => {
    const m = matrix(300, 1);
    const inline = await scoreWith('models', 'auto', m, 300);
    const runtime = await scoreWith('models', 'off', m, 300);
    expect(inline.runtime).toBe('inline');
    expect(runtime.runtime).toBe('onnxruntime');
    for (let r = 0; r < 300; r++) expect(Math.abs(inline.scores[r] - runtime.scores[r])).toBeLessThan(1e-6);
  });

  it('gives a trained network of two hidden layers the scores ONNX Runtime gives', async () => {
    const dir = await registryWith(bytesOf(network([16, 8], 7)));
    const m = matrix(200, 2);
    const inline = await scoreWith(dir, 'auto', m, 200);
    const runtime = await scoreWith(dir, 'off', m, 200);
    expect(inline.runtime).toBe('inline');
    const spread = Math.max(...runtime.scores) - Math.min(...runtime.scores);
    expect(spread).toBeGreaterThan(0.1);
    for (let r = 0; r < 200; r++) expect(Math.abs(inline.scores[r] - runtime.scores[r])).toBeLessThan(1e-6);
  });

  it('keeps concurrent requests apart: each gets its own rows and scores', async () => {
    const scorer = await createOnnxScorer({ registryDir: 'models', logger: silentLogger() });
    try {
      const [a, b] = await Promise.all([scorer.score(matrix(5, 3), 5), scorer.score(matrix(7, 4), 7)]);
      expect(a.scores.length).toBe(5);
      expect(b.scores.length).toBe(7);
      expect(Array.from(a.rows)).toEqual(Array.from(matrix(5, 3)));
      expect(Array.from(b.rows)).toEqual(Array.from(matrix(7, 4)));
      const again = await scorer.score(matrix(5, 3), 5);
      expect(Array.from(again.scores)).toEqual(Array.from(a.scores));
    } finally {
      await scorer.close();
    }
  });

  it('leaves a network over the size limit to ONNX Runtime', async () => {
    const wide = Math.ceil(INLINE_MAX_MULTIPLY_ADDS / spec.width) + 1;
    const parsed = parseInlineNetwork(bytesOf(network([wide], 5)), spec);
    expect(parsed).toEqual({ reason: expect.stringMatching(/multiply-adds a row, over 4096/) });
    const dir = await registryWith(bytesOf(network([wide], 5)));
    expect((await scoreWith(dir, 'auto', matrix(3, 1), 3)).runtime).toBe('onnxruntime');
  });

  it('leaves any other graph to ONNX Runtime, and still scores it', async () => {
    const weights = new Float32Array(spec.width).fill(0.05);
    const bytes = encodeFloatModel(
      {
        name: 'tanh-model',
        columns: spec.width,
        initializer: [
          onnx.TensorProto.create({
            name: 'w',
            dataType: onnx.TensorProto.DataType.FLOAT,
            dims: [spec.width, 1],
            floatData: Array.from(weights),
          }),
          onnx.TensorProto.create({
            name: 'b',
            dataType: onnx.TensorProto.DataType.FLOAT,
            dims: [1],
            floatData: [0],
          }),
        ],
        node: [
          onnx.NodeProto.create({ opType: 'MatMul', input: [spec.input, 'w'], output: ['mm'] }),
          onnx.NodeProto.create({ opType: 'Add', input: ['mm', 'b'], output: ['z'] }),
          onnx.NodeProto.create({ opType: 'Tanh', input: ['z'], output: ['t'] }),
          onnx.NodeProto.create({ opType: 'Sigmoid', input: ['t'], output: [spec.output] }),
        ],
      },
      { inputName: spec.input, outputName: spec.output, producerName: 'test' },
    );
    expect(parseInlineNetwork(bytes, spec)).toEqual({ reason: expect.stringMatching(/4 nodes/) });
    const dir = await registryWith(bytes);
    const m = matrix(4, 9);
    const scored = await scoreWith(dir, 'auto', m, 4);
    expect(scored.runtime).toBe('onnxruntime');
    for (let r = 0; r < 4; r++) {
      let z = 0;
      for (let c = 0; c < spec.width; c++) z += 0.05 * m[r * spec.width + c];
      expect(scored.scores[r]).toBeCloseTo(1 / (1 + Math.exp(-Math.tanh(z))), 5);
    }
  });
});
