/**
 * Loads one model version from the registry into an ONNX Runtime session and proves it can serve: it loads,
 * its input and output names and width match the feature spec, and a probe batch scores finite values in
 * [0, 1]. A model that fails any check is disposed and refused with a `CROUPIER_ERR_MODEL_INVALID` error.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { CroupierError } from '../errors/index.ts';
import type { FeatureSpec } from './feature-spec.ts';
import type { ActiveModel } from './model-registry.ts';

/** The fixed probe batch: a row of zeros, a row of ones and rows of seeded values in [-4, 4]. */
export function probeMatrix(width: number, rows = 8): Float32Array {
  const m = new Float32Array(rows * width);
  let state = 0x9e3779b9;
  for (let i = 0; i < m.length; i++) {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    m[i] = i < width ? 0 : i < 2 * width ? 1 : (state / 4294967296) * 8 - 4;
  }
  return m;
}

export interface SessionSettings {
  /** ONNX Runtime execution provider names in order, e.g. `['cuda', 'cpu']`. */
  readonly executionProviders: readonly string[];
  readonly intraOpThreads: number;
}

function refuse(model: ActiveModel, reason: string, cause?: unknown): CroupierError {
  return new CroupierError(
    'CROUPIER_ERR_MODEL_INVALID',
    `model ${model.entry.version} (${model.modelPath}) refused: ${reason}; fix or replace the file and reload`,
    { version: model.entry.version, file: model.modelPath },
    cause === undefined ? undefined : { cause },
  );
}

/** A model file as read: its bytes and their hash, so a reload can tell whether the file changed since. */
export interface ModelFile {
  readonly bytes: Uint8Array;
  /** `sha256:<64 hex digits>` of `bytes`. */
  readonly sha256: string;
}

/** Reads `model`'s file; refused (`CROUPIER_ERR_MODEL_INVALID`) when it cannot be read. */
export async function readModelFile(model: ActiveModel): Promise<ModelFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(model.modelPath);
  } catch (error) {
    throw refuse(model, `cannot read the file: ${(error as Error).message}`, error);
  }
  return { bytes, sha256: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

/**
 * Creates a session for `model` with `settings` and validates it against `spec`. `file`: the model's file as
 * already read (`readModelFile`), so the session is of exactly those bytes; read now when left out.
 */
export async function loadModelSession(
  model: ActiveModel,
  spec: FeatureSpec,
  settings: SessionSettings,
  file?: ModelFile,
): Promise<ort.InferenceSession> {
  const { bytes } = file ?? (await readModelFile(model));
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: [...settings.executionProviders],
      intraOpNumThreads: settings.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    throw refuse(model, `ONNX Runtime cannot load it: ${(error as Error).message}`, error);
  }
  try {
    await validateSession(model, session, spec);
  } catch (error) {
    await session.release().catch(() => undefined);
    throw error;
  }
  return session;
}

async function validateSession(
  model: ActiveModel,
  session: ort.InferenceSession,
  spec: FeatureSpec,
): Promise<void> {
  if (session.inputNames.length !== 1 || session.inputNames[0] !== spec.input) {
    throw refuse(
      model,
      `inputs are [${session.inputNames.join(', ')}], the feature spec expects [${spec.input}]`,
    );
  }
  if (!session.outputNames.includes(spec.output)) {
    throw refuse(
      model,
      `outputs are [${session.outputNames.join(', ')}], the feature spec expects ${spec.output}`,
    );
  }
  const input = session.inputMetadata[0];
  if (input.isTensor) {
    const width = input.shape[input.shape.length - 1];
    if (
      input.type !== 'float32' ||
      input.shape.length !== 2 ||
      (typeof width === 'number' && width !== spec.width)
    ) {
      throw refuse(
        model,
        `input is ${input.type} [${input.shape.join(', ')}], the feature spec expects float32 [batch, ${spec.width}]`,
      );
    }
  }
  const rows = 8;
  let scores: Float32Array;
  try {
    const probe = probeMatrix(spec.width, rows);
    const out = await session.run({ [spec.input]: new ort.Tensor('float32', probe, [rows, spec.width]) });
    const tensor = out[spec.output] as ort.Tensor;
    if (tensor.type !== 'float32') throw new Error(`output type is ${tensor.type}, expected float32`);
    scores = tensor.data as Float32Array;
  } catch (error) {
    throw refuse(model, `the probe run failed: ${(error as Error).message}`, error);
  }
  if (scores.length !== rows) {
    throw refuse(model, `the probe run gave ${scores.length} scores for ${rows} rows (expected one per row)`);
  }
  for (let i = 0; i < rows; i++) {
    const s = scores[i];
    if (!(s >= 0 && s <= 1))
      throw refuse(model, `the probe run gave score ${s} for row ${i}, outside [0, 1]`);
  }
}
