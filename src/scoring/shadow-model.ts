/**
 * The shadow model (`model.shadowVersion`): a second version of the registry that scores the candidates of the
 * carousels whose candidate set is logged, after the reply. Its p̂ are logged with the candidate set and never
 * shown, so a shadow test can evaluate "the serving policy with this model" before it is promoted. It is loaded
 * once (registry versions are immutable), must follow the serving model's feature spec (it scores the same
 * feature rows), and runs one ONNX Runtime session of its own, apart from the serving model's micro-batches.
 */
import ort from 'onnxruntime-node';
import { CroupierError } from '../errors/index.ts';
import type { FeatureSpec } from './feature-spec.ts';
import { loadModelSession } from './model-loader.ts';
import { activeModel, readManifest } from './model-registry.ts';

export interface ShadowModel {
  readonly version: string;
  /** One p̂ per row of `features` (row-major, the feature spec's width); a fresh array. */
  score(features: Float32Array, rows: number): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface ShadowModelOptions {
  registryDir: string;
  version: string;
  /** The feature spec the serving model follows: the shadow model must follow the same one. */
  spec: FeatureSpec;
  /** ONNX Runtime execution provider names in order, e.g. `['cuda', 'cpu']`. Default `['cpu']`. */
  executionProviders?: readonly string[];
  intraOpThreads?: number;
}

/**
 * Loads `version` from the registry and validates it. Throws CROUPIER_ERR_MODEL_VERSION_UNKNOWN when the registry
 * has no such version, CROUPIER_ERR_MODEL_SPEC_MISMATCH when it follows another feature spec, and
 * CROUPIER_ERR_MODEL_INVALID when it cannot serve.
 */
export async function loadShadowModel(options: ShadowModelOptions): Promise<ShadowModel> {
  const { registryDir: dir, version, spec } = options;
  const manifest = await readManifest(dir);
  const entry = manifest.models.find((model) => model.version === version);
  if (entry === undefined) {
    throw new CroupierError(
      'CROUPIER_ERR_MODEL_VERSION_UNKNOWN',
      `model.shadowVersion is ${version}, but the registry ${dir} has no such version (it has ${manifest.models
        .map((m) => m.version)
        .join(
          ', ',
        )}): set model.shadowVersion (MODEL_SHADOW_VERSION) to one of them, or to '' for no shadow model`,
      { version, registryDir: dir },
    );
  }
  if (entry.featureSpecHash !== spec.hash) {
    throw new CroupierError(
      'CROUPIER_ERR_MODEL_SPEC_MISMATCH',
      `model.shadowVersion ${version} follows feature spec ${entry.featureSpecHash}, but the serving model follows ${spec.hash}: a shadow model scores the serving model's feature rows, so it must follow the same spec`,
      { version, expected: spec.hash, actual: entry.featureSpecHash },
    );
  }
  // The entry's paths, as the serving model's are found.
  const session = await loadModelSession(activeModel(dir, { ...manifest, active: version }), spec, {
    executionProviders: options.executionProviders ?? ['cpu'],
    intraOpThreads: options.intraOpThreads ?? 1,
  });
  let closed = false;
  const running = new Set<Promise<unknown>>();
  return {
    version,
    async score(features, rows) {
      if (closed) {
        throw new CroupierError('CROUPIER_ERR_SCORER_CLOSED', `the shadow model ${version} is closed`, {});
      }
      const input = new ort.Tensor('float32', features.subarray(0, rows * spec.width), [rows, spec.width]);
      const run = session.run({ [spec.input]: input });
      running.add(run);
      try {
        const out = await run;
        return Float32Array.from((out[spec.output] as ort.Tensor).data as Float32Array);
      } catch (error) {
        throw new CroupierError(
          'CROUPIER_ERR_SCORING_FAILED',
          `shadow model ${version} failed to score ${rows} rows: ${(error as Error).message}`,
          { version, rows },
          { cause: error },
        );
      } finally {
        running.delete(run);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      // Runs in flight finish on the session before it is released.
      await Promise.allSettled([...running]);
      await session.release();
    },
  };
}
