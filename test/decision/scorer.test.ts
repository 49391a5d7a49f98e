import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CroupierError } from '../../src/errors/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { planExecutionProviders } from '../../src/scoring/execution-providers.ts';
import { loadFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { createOnnxScorer, type Scorer } from '../../src/scoring/onnx-scorer.ts';
import { entry, tempRegistry, writeManifest, writeModel } from './support.ts';

const spec = await loadFeatureSpec('models/feature-spec.json');

function randomMatrix(rows: number, seed: number): Float32Array {
  const m = new Float32Array(rows * spec.width);
  let s = seed;
  for (let i = 0; i < m.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    m[i] = (s / 2 ** 32) * 2 - 1;
  }
  return m;
}

function expected(matrix: Float32Array, rows: number, weight: number, bias: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let z = bias;
    for (let c = 0; c < spec.width; c++) z += weight * matrix[r * spec.width + c];
    out.push(1 / (1 + Math.exp(-z)));
  }
  return out;
}

describe('the default model', () => {
  it('loads from the repository registry and scores every row in (0, 1)', async () => {
    const scorer = await createOnnxScorer({ registryDir: 'models', logger: silentLogger() });
    try {
      expect(scorer.model.version).toBe('default-1');
      expect(scorer.model.provider).toBe('cpu');
      expect(scorer.spec.hash).toBe(spec.hash);
      const { scores, modelVersion } = await scorer.score(randomMatrix(50, 1), 50);
      expect(modelVersion).toBe('default-1');
      expect(scores.length).toBe(50);
      for (const s of scores) expect(s > 0 && s < 1).toBe(true);
    } finally {
      await scorer.close();
    }
  });
});

describe('execution providers', () => {
  it('skips cuda with the reason when its library is missing and always ends with cpu', () => {
    const plan = planExecutionProviders(['cuda', 'webgpu'], {
      cudaInstalled: () => false,
      listed: () => true,
    });
    expect(plan.map((c) => [c.name, c.skip])).toEqual([
      ['cuda', true],
      ['webgpu', false],
      ['cpu', false],
    ]);
    expect(plan[0].reason).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
    const installed = planExecutionProviders(['cuda'], { cudaInstalled: () => true, listed: () => true });
    expect(installed.map((c) => [c.name, c.skip])).toEqual([
      ['cuda', false],
      ['cpu', false],
    ]);
  });

  it('falls back to cpu when a requested provider cannot start', async () => {
    const scorer = await createOnnxScorer({
      registryDir: 'models',
      logger: silentLogger(),
      executionProviders: ['cuda', 'cpu'],
    });
    try {
      expect(scorer.model.provider).toBe('cpu');
    } finally {
      await scorer.close();
    }
  });
});

// Micro-batching is ONNX Runtime's: the default model would otherwise be scored inline (inline-network.test.ts).
describe('micro-batching', () => {
  let batched: Scorer;
  let single: Scorer;
  const batches: [number, number][] = [];
  beforeAll(async () => {
    batched = await createOnnxScorer({
      registryDir: 'models',
      logger: silentLogger(),
      batching: true,
      batchWaitUs: 100,
      inline: 'off',
      onBatch: (requests, rows) => batches.push([requests, rows]),
    });
    single = await createOnnxScorer({
      registryDir: 'models',
      logger: silentLogger(),
      batching: false,
      inline: 'off',
    });
  });
  afterAll(async () => {
    await batched.close();
    await single.close();
  });

  it('returns the same scores for concurrent requests as single runs do', async () => {
    const sizes = [1, 7, 50, 200, 3];
    const matrices = sizes.map((rows, i) => randomMatrix(rows, 100 + i));
    const together = await Promise.all(matrices.map((m, i) => batched.score(m, sizes[i])));
    // Submitted in one turn: one run for all five requests.
    expect(batches).toEqual([[5, 261]]);
    for (let i = 0; i < sizes.length; i++) {
      const alone = await single.score(matrices[i], sizes[i]);
      expect(Array.from(together[i].scores)).toEqual(Array.from(alone.scores));
    }
  });

  it('copies the matrix at submission, so the caller may reuse its buffer at once', async () => {
    const buffer = randomMatrix(10, 5);
    const copy = buffer.slice();
    const pending = batched.score(buffer, 10);
    buffer.fill(0);
    const { scores } = await pending;
    const alone = await single.score(copy, 10);
    expect(Array.from(scores)).toEqual(Array.from(alone.scores));
  });
});

describe('hot reload', () => {
  it('refuses a broken model, keeps serving the old one, then swaps in a valid one without a failed request', async () => {
    const dir = await tempRegistry();
    const v1 = await writeModel(dir, spec, 'v1', 0.1, -2);
    await writeManifest(dir, { active: 'v1', models: [v1] });
    const scorer = await createOnnxScorer({ registryDir: dir, logger: silentLogger(), batchWaitUs: 50 });
    const matrix = randomMatrix(20, 9);
    const byVersion: Record<string, number[]> = {
      v1: expected(matrix, 20, 0.1, -2),
      v3: expected(matrix, 20, -0.2, 1),
    };
    let failures = 0;
    const seen = new Set<string>();
    let running = true;
    const load = (async () => {
      while (running) {
        // A turn of the event loop per round, as requests arrive: an inline model scores without one.
        await new Promise((resolve) => setImmediate(resolve));
        const batch = await Promise.allSettled(Array.from({ length: 4 }, () => scorer.score(matrix, 20)));
        for (const result of batch) {
          if (result.status === 'rejected') {
            failures++;
            continue;
          }
          seen.add(result.value.modelVersion);
          const want = byVersion[result.value.modelVersion];
          result.value.scores.forEach((s, i) => {
            expect(s).toBeCloseTo(want[i], 5);
          });
        }
      }
    })();
    try {
      // A broken file: refused with a clear error; v1 keeps serving.
      await writeFile(join(dir, 'v2.onnx'), 'this is not an onnx model');
      await writeManifest(dir, { active: 'v2', models: [v1, entry(spec, 'v2')] });
      const refusal = await scorer.reload().catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(CroupierError);
      expect((refusal as CroupierError).code).toBe('CROUPIER_ERR_MODEL_INVALID');
      expect((refusal as CroupierError).message).toMatch(/model v2 .* refused/);
      expect(scorer.model.version).toBe('v1');

      // A model whose width does not follow the spec is refused too.
      const narrow = { ...spec, width: spec.width - 1 };
      await writeModel(dir, narrow as typeof spec, 'narrow', 0.1, 0);
      await writeManifest(dir, { active: 'narrow', models: [v1, entry(spec, 'narrow')] });
      await expect(scorer.reload()).rejects.toThrowError(/expects float32 \[batch, 27\]/);
      expect(scorer.model.version).toBe('v1');

      // A valid new model takes over.
      const v3 = await writeModel(dir, spec, 'v3', -0.2, 1);
      await writeManifest(dir, { active: 'v3', models: [v1, v3] });
      const info = await scorer.reload();
      expect(info.version).toBe('v3');
      expect(scorer.model.version).toBe('v3');
      const after = await scorer.score(matrix, 20);
      expect(after.modelVersion).toBe('v3');
    } finally {
      running = false;
      await load;
      await scorer.close();
    }
    expect(failures).toBe(0);
    expect(seen).toEqual(new Set(['v1', 'v3']));
  });

  it('reloads a model whose file changed under the same version, and keeps it serving when the new file is broken', async () => {
    const dir = await tempRegistry();
    const v1 = await writeModel(dir, spec, 'v1', 0.1, -2);
    await writeManifest(dir, { active: 'v1', models: [v1] });
    const scorer = await createOnnxScorer({ registryDir: dir, logger: silentLogger() });
    const matrix = randomMatrix(20, 5);
    const scoresOf = async () => Array.from((await scorer.score(matrix, 20)).scores);
    const closeTo = (got: number[], want: number[]) => got.every((s, i) => Math.abs(s - want[i]) < 1e-5);
    try {
      const loaded = scorer.model;
      expect(closeTo(await scoresOf(), expected(matrix, 20, 0.1, -2))).toBe(true);
      expect(await scorer.reload()).toBe(loaded); // nothing changed: nothing reloaded

      // The file is replaced under the same version name; the manifest is not touched.
      await writeModel(dir, spec, 'v1', -0.2, 1);
      const info = await scorer.reload();
      expect(closeTo(await scoresOf(), expected(matrix, 20, -0.2, 1))).toBe(true);
      expect(info).toMatchObject({ version: 'v1', file: loaded.file });
      expect(info.fileSha256).not.toBe(loaded.fileSha256);

      // A broken file under the same name is refused with what keeps serving, and the loaded copy does.
      await writeFile(join(dir, 'v1.onnx'), 'this is not an onnx model');
      for (let i = 0; i < 2; i++) {
        const refusal = await scorer.reload().catch((error: unknown) => error);
        expect((refusal as CroupierError).code).toBe('CROUPIER_ERR_MODEL_INVALID');
        expect((refusal as CroupierError).message).toMatch(
          /model v1 .* refused: ONNX Runtime cannot load it.*the file changed since it was loaded, and v1 as loaded at .* keeps serving/s,
        );
        expect(scorer.model).toBe(info);
        expect(closeTo(await scoresOf(), expected(matrix, 20, -0.2, 1))).toBe(true);
      }
    } finally {
      await scorer.close();
    }
  });

  it('refuses a model registered with another feature spec hash', async () => {
    const dir = await tempRegistry();
    const v1 = await writeModel(dir, spec, 'v1', 0.1, -2);
    await writeManifest(dir, {
      active: 'v1',
      models: [{ ...v1, featureSpecHash: `sha256:${'0'.repeat(64)}` }],
    });
    await expect(createOnnxScorer({ registryDir: dir, logger: silentLogger() })).rejects.toMatchObject({
      code: 'CROUPIER_ERR_MODEL_SPEC_MISMATCH',
    });
  });

  it('reloads by itself when the manifest changes, if watching', async () => {
    const dir = await tempRegistry();
    const v1 = await writeModel(dir, spec, 'v1', 0.1, -2);
    await writeManifest(dir, { active: 'v1', models: [v1] });
    const scorer = await createOnnxScorer({ registryDir: dir, logger: silentLogger(), watch: true });
    try {
      const v2 = await writeModel(dir, spec, 'v2', 0.2, -1);
      await writeManifest(dir, { active: 'v2', models: [v1, v2] });
      for (let i = 0; i < 100 && scorer.model.version !== 'v2'; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(scorer.model.version).toBe('v2');
      expect((await scorer.score(randomMatrix(3, 1), 3)).modelVersion).toBe('v2');
    } finally {
      await scorer.close();
    }
  });
});
