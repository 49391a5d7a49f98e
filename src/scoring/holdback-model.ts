/**
 * The holdback of a promotion (`holdback` in manifest.json): a share of users, chosen by a salted hash of their
 * id, still served by the model the promotion replaced, so that the post-promotion watch compares the new model
 * with the previous one over the same hours, on users split at random (a concurrent control), instead of with
 * the hours before the promotion. Its carousels are logged with the holdback's version as their model version.
 *
 * The holdback scores its users' matrices alone (no micro-batching: it serves a small share), on a session of
 * its own that stays alive until its runs in flight end.
 */
import ort from 'onnxruntime-node';
import { CroupierError } from '../errors/index.ts';
import { StringHasher } from '../experiments/hash.ts';
import type { FeatureSpec } from './feature-spec.ts';
import { loadModelSession, readModelFile } from './model-loader.ts';
import { activeModel, type Holdback, type Manifest } from './model-registry.ts';

const BUCKETS = 10_000;

export interface HoldbackScores {
  readonly scores: Float32Array;
  readonly rows: Float32Array;
  readonly modelVersion: string;
}

/** The users' split of a holdback: true for the users `holdback.version` serves. */
export function holdbackSplit(holdback: Holdback): (userId: string) => boolean {
  const hasher = new StringHasher();
  const below = Math.round(holdback.percent * (BUCKETS / 100));
  return (userId) => hasher.hash(holdback.salt, userId) % BUCKETS < below;
}

export class HoldbackModel {
  readonly includes: (userId: string) => boolean;
  private inflight = 0;
  private retired = false;

  private constructor(
    readonly holdback: Holdback,
    /** `sha256:<hex>` of the model file as loaded: a reload loads it again when the file changed. */
    readonly fileSha256: string,
    private readonly session: ort.InferenceSession,
    private readonly spec: FeatureSpec,
  ) {
    this.includes = holdbackSplit(holdback);
  }

  /** Loads the manifest's holdback version (which the manifest schema checked exists) under `spec`. */
  static async load(
    dir: string,
    manifest: Manifest & { holdback: Holdback },
    spec: FeatureSpec,
    options: { executionProviders: readonly string[]; intraOpThreads: number },
  ): Promise<HoldbackModel> {
    const version = manifest.holdback.version;
    const model = activeModel(dir, { ...manifest, active: version });
    if (model.entry.featureSpecHash !== spec.hash) {
      throw new CroupierError(
        'CROUPIER_ERR_MODEL_SPEC_MISMATCH',
        `the holdback model ${version} follows feature spec ${model.entry.featureSpecHash}, but croupier serves ${spec.hash}: a holdback scores the same feature rows as the active model`,
        { version, expected: spec.hash, actual: model.entry.featureSpecHash },
      );
    }
    const file = await readModelFile(model);
    const session = await loadModelSession(model, spec, options, file);
    return new HoldbackModel(manifest.holdback, file.sha256, session, spec);
  }

  /**
   * True when `manifest` names this holdback (`same`) and its model file holds the bytes loaded: a file changed
   * under the same version name is loaded again, as the active model's is.
   */
  async unchangedIn(dir: string, manifest: Manifest): Promise<boolean> {
    if (!this.same(manifest.holdback)) return false;
    const model = activeModel(dir, { ...manifest, active: this.holdback.version });
    return (await readModelFile(model)).sha256 === this.fileSha256;
  }

  /** True when `other` names the same holdback (version, share and split). */
  same(other: Holdback | undefined): boolean {
    const h = this.holdback;
    return (
      other !== undefined &&
      other.version === h.version &&
      other.percent === h.percent &&
      other.salt === h.salt
    );
  }

  /** Scores `rows` rows of `features` (copied first: the caller's buffer is reused). */
  async score(features: Float32Array, rows: number): Promise<HoldbackScores> {
    const version = this.holdback.version;
    const matrix = features.slice(0, rows * this.spec.width);
    this.inflight++;
    try {
      const input = new ort.Tensor('float32', matrix, [rows, this.spec.width]);
      const out = await this.session.run({ [this.spec.input]: input });
      return {
        scores: (out[this.spec.output] as ort.Tensor).data as Float32Array,
        rows: matrix,
        modelVersion: version,
      };
    } catch (error) {
      throw new CroupierError(
        'CROUPIER_ERR_SCORING_FAILED',
        `holdback model ${version} failed to score ${rows} rows: ${(error as Error).message}`,
        { version, rows },
        { cause: error },
      );
    } finally {
      this.inflight--;
      if (this.retired && this.inflight === 0) void this.session.release().catch(() => undefined);
    }
  }

  /** Releases the session once the runs in flight end. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    if (this.inflight === 0) void this.session.release().catch(() => undefined);
  }
}
