/**
 * Scores feature matrices with the registry's active ONNX model. Concurrent requests are micro-batched: rows
 * submitted while a batch is open are copied into one staging matrix and scored by one `session.run`; the
 * batch closes at the next event-loop turn, or after at most `batchWaitUs` (≤ 200 µs), or when full. Models
 * hot-reload: a new version is loaded and validated beside the serving one, then swapped in; runs in flight
 * finish on the old session, which is released afterwards. A refused model leaves the old one serving. A reload
 * also swaps in the active version's file when its content changed under the same version name (its SHA-256
 * differs from the one loaded), and answers the refusal when the changed file is broken. When the
 * manifest names a holdback (holdback-model.ts), the holdback's users are scored by its model instead.
 *
 * A small dense model on the CPU is scored in the calling thread instead (inline-network.ts), synchronously and
 * without batching, once it agrees with ONNX Runtime on the probe rows: ONNX Runtime's asynchronous run waits
 * for the event loop, and under load that wait is most of a carousel's server time.
 */

import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import { type ProviderName, planExecutionProviders } from './execution-providers.ts';
import { type FeatureSpec, loadFeatureSpec } from './feature-spec.ts';
import { HoldbackModel } from './holdback-model.ts';
import { INLINE_PARITY_TOLERANCE, type InlineNetwork, parseInlineNetwork } from './inline-network.ts';
import { loadModelSession, type ModelFile, probeMatrix, readModelFile } from './model-loader.ts';
import {
  type ActiveModel,
  activeModel,
  type Holdback,
  type Manifest,
  readManifest,
  watchManifest,
} from './model-registry.ts';

export interface OnnxScorerOptions {
  /** Model registry directory (manifest.json, models, feature specs). */
  registryDir: string;
  logger: Logger;
  /** Preferred execution providers; CPU is always the last resort. Default `['cpu']`. */
  executionProviders?: readonly ProviderName[];
  /** Micro-batch concurrent requests into one run. Default true. */
  batching?: boolean;
  /** Longest a batch stays open waiting for more requests, µs (0: until the next event-loop turn). Max 200. */
  batchWaitUs?: number;
  /** A batch closes at once when it holds this many rows. */
  maxBatchRows?: number;
  /** ONNX Runtime intra-op threads. Default 1 (small models gain nothing from more). */
  intraOpThreads?: number;
  /** Reload when manifest.json changes. Default false (call `reload()`). */
  watch?: boolean;
  /**
   * Score a small dense model on the CPU in the calling thread when it agrees with ONNX Runtime ('auto', the
   * default), or always with ONNX Runtime ('off'). See inline-network.ts.
   */
  inline?: InlineMode;
  /** Called after every ONNX Runtime run (for metrics): requests and rows it scored, and its duration in µs. */
  onBatch?: (requests: number, rows: number, runUs: number) => void;
}

export type InlineMode = 'auto' | 'off';

export interface ModelInfo {
  readonly version: string;
  readonly file: string;
  /** `sha256:<hex>` of the file's bytes as loaded: a reload swaps the model in again when the file changed. */
  readonly fileSha256: string;
  readonly featureSpecHash: string;
  readonly provider: ProviderName;
  /** What evaluates the model: ONNX Runtime, or the inline dense network (on the CPU provider only). */
  readonly runtime: 'onnxruntime' | 'inline';
  readonly loadedAt: number;
}

export interface ScoreResult {
  /** One p̂ per row; a view valid until the caller's next await. */
  readonly scores: Float32Array;
  /**
   * The rows scored (`rows × spec.width`, row-major): exactly what the model saw, for the event log. A view valid
   * until the caller's next await.
   */
  readonly rows: Float32Array;
  /** The model version that produced the scores. */
  readonly modelVersion: string;
}

export interface Scorer {
  /** The feature spec every served model follows. */
  readonly spec: FeatureSpec;
  /** The serving model. */
  readonly model: ModelInfo;
  /** The manifest's holdback being served (a share of users on the previous model), or null. */
  readonly holdback: Holdback | null;
  /**
   * Scores `rows` rows of `features` (row-major, `spec.width` columns); the matrix is copied before return. With
   * `userId`, a user of the manifest's holdback is scored by the holdback's model (its version in the result).
   */
  score(features: Float32Array, rows: number, userId?: string): Promise<ScoreResult>;
  /**
   * Re-reads the manifest and swaps in its active model if it changed (another version, or the same version's file
   * with other content) and validates; throws when refused, and the loaded model keeps serving.
   */
  reload(): Promise<ModelInfo>;
  close(): Promise<void>;
}

interface Served {
  readonly session: ort.InferenceSession;
  /** The same model evaluated in the calling thread, when it may be (see the file comment). */
  readonly inline: InlineNetwork | null;
  readonly info: ModelInfo;
  inflight: number;
  retired: boolean;
}

interface Waiter {
  readonly offset: number;
  readonly rows: number;
  readonly resolve: (result: ScoreResult) => void;
  readonly reject: (error: unknown) => void;
}

const MAX_WAIT_US = 200;

export async function createOnnxScorer(options: OnnxScorerOptions): Promise<Scorer> {
  const logger = options.logger;
  const dir = options.registryDir;
  const manifest = await readManifest(dir);
  const active = activeModel(dir, manifest);
  const spec = await loadFeatureSpec(active.featureSpecPath);
  checkSpecHash(active, spec.hash);
  const plan = planExecutionProviders(options.executionProviders ?? ['cpu']);
  const skipped = plan.filter((c) => c.skip).map((c) => c.reason);
  const intraOpThreads = options.intraOpThreads ?? 1;
  const file = await readModelFile(active);
  let session: ort.InferenceSession | undefined;
  let provider: ProviderName = 'cpu';
  let why = '';
  const failures: string[] = [...skipped];
  for (const candidate of plan) {
    if (candidate.skip) continue;
    const providers = candidate.name === 'cpu' ? ['cpu'] : [candidate.name, 'cpu'];
    try {
      session = await loadModelSession(active, spec, { executionProviders: providers, intraOpThreads }, file);
      provider = candidate.name;
      why = candidate.reason;
      break;
    } catch (error) {
      if (candidate.name === 'cpu') throw error;
      failures.push(`${candidate.name} failed to start: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  if (session === undefined) {
    throw new CroupierError('CROUPIER_ERR_MODEL_INVALID', 'no execution provider could load the model', {
      dir,
    });
  }
  logger.info(
    {
      provider,
      requested: options.executionProviders ?? ['cpu'],
      notUsed: failures,
      model: active.entry.version,
    },
    `scoring on ${provider}: ${why}${failures.length > 0 ? ` (${failures.join('; ')})` : ''}`,
  );
  const holdback = await loadHoldback(dir, manifest, spec, provider, intraOpThreads);
  const inline = await inlineOf(active, file, spec, session, provider, options.inline ?? 'auto', logger);
  return new OnnxScorer(
    options,
    spec,
    { session, inline, info: infoOf(active, file, provider, inline), inflight: 0, retired: false },
    holdback,
  );
}

/**
 * The inline evaluation of `active` (inline-network.ts) when `mode` allows it, the provider is the CPU, the graph
 * is a small chain of dense layers, and its scores agree with `session`'s on the probe rows; null otherwise (the
 * log says why).
 */
async function inlineOf(
  active: ActiveModel,
  file: ModelFile,
  spec: FeatureSpec,
  session: ort.InferenceSession,
  provider: ProviderName,
  mode: InlineMode,
  logger: Logger,
): Promise<InlineNetwork | null> {
  if (mode === 'off' || provider !== 'cpu') return null;
  const version = active.entry.version;
  const parsed = parseInlineNetwork(file.bytes, spec);
  if (!('network' in parsed)) {
    logger.info({ model: version }, `model ${version} is scored by ONNX Runtime: ${parsed.reason}`);
    return null;
  }
  const rows = 64;
  const probe = probeMatrix(spec.width, rows);
  const out = await session.run({ [spec.input]: new ort.Tensor('float32', probe, [rows, spec.width]) });
  const expected = (out[spec.output] as ort.Tensor).data as Float32Array;
  const inline = new Float32Array(rows);
  parsed.network.score(probe, rows, inline);
  let largest = 0;
  for (let r = 0; r < rows; r++) largest = Math.max(largest, Math.abs(inline[r] - expected[r]));
  if (!(largest <= INLINE_PARITY_TOLERANCE)) {
    logger.warn(
      { model: version, largestDifference: largest },
      `model ${version} is scored by ONNX Runtime: the inline evaluation differs from it by ${largest} on the probe rows (tolerance ${INLINE_PARITY_TOLERANCE})`,
    );
    return null;
  }
  logger.info(
    {
      model: version,
      layers: parsed.network.depth,
      multiplyAdds: parsed.network.cost,
      largestDifference: largest,
    },
    `model ${version} is scored inline (${parsed.network.depth} dense layers, ${parsed.network.cost} multiply-adds a row; largest difference from ONNX Runtime on the probe rows ${largest.toExponential(1)})`,
  );
  return parsed.network;
}

/** The manifest's holdback model on the serving provider, or null when the manifest names none. */
function loadHoldback(
  dir: string,
  manifest: Manifest,
  spec: FeatureSpec,
  provider: ProviderName,
  intraOpThreads: number,
): Promise<HoldbackModel | null> {
  const holdback = manifest.holdback;
  if (holdback === undefined) return Promise.resolve(null);
  return HoldbackModel.load(dir, { ...manifest, holdback }, spec, {
    executionProviders: provider === 'cpu' ? ['cpu'] : [provider, 'cpu'],
    intraOpThreads,
  });
}

function infoOf(
  active: ActiveModel,
  file: ModelFile,
  provider: ProviderName,
  inline: InlineNetwork | null,
): ModelInfo {
  return Object.freeze({
    version: active.entry.version,
    file: active.modelPath,
    fileSha256: file.sha256,
    featureSpecHash: active.entry.featureSpecHash,
    provider,
    runtime: inline === null ? 'onnxruntime' : 'inline',
    loadedAt: Date.now(),
  });
}

function checkSpecHash(active: ActiveModel, hash: string): void {
  if (active.entry.featureSpecHash !== hash) {
    throw new CroupierError(
      'CROUPIER_ERR_MODEL_SPEC_MISMATCH',
      `model ${active.entry.version}: manifest says feature spec hash ${active.entry.featureSpecHash} but ${active.featureSpecPath} hashes to ${hash}; regenerate the manifest entry`,
      { version: active.entry.version, expected: active.entry.featureSpecHash, actual: hash },
    );
  }
}

class OnnxScorer implements Scorer {
  readonly spec: FeatureSpec;
  private served: Served;
  private holdbackModel: HoldbackModel | null;
  private readonly logger: Logger;
  private readonly dir: string;
  private readonly batching: boolean;
  private readonly waitMs: number;
  private readonly maxBatchRows: number;
  private readonly intraOpThreads: number;
  private readonly inlineMode: InlineMode;
  private readonly stopWatching: (() => void) | null;
  private closed = false;
  private reloading: Promise<ModelInfo> | null = null;
  // The open batch.
  private staging: Float32Array;
  private stagedRows = 0;
  private waiters: Waiter[] = [];
  private scheduled = false;
  private openedAt = 0;
  private readonly freeBuffers: Float32Array[] = [];
  private readonly tick = (): void => this.onTick();
  private readonly onBatch: OnnxScorerOptions['onBatch'];

  constructor(options: OnnxScorerOptions, spec: FeatureSpec, served: Served, holdback: HoldbackModel | null) {
    this.spec = spec;
    this.served = served;
    this.holdbackModel = holdback;
    this.logger = options.logger;
    this.dir = options.registryDir;
    this.batching = options.batching ?? true;
    this.waitMs = Math.min(MAX_WAIT_US, Math.max(0, options.batchWaitUs ?? 0)) / 1000;
    this.maxBatchRows = options.maxBatchRows ?? 16_384;
    this.intraOpThreads = options.intraOpThreads ?? 1;
    this.inlineMode = options.inline ?? 'auto';
    this.onBatch = options.onBatch;
    this.staging = new Float32Array(1024 * spec.width);
    this.stopWatching = options.watch
      ? watchManifest(
          this.dir,
          () => {
            this.reload().catch(() => undefined);
          },
          this.logger,
        )
      : null;
  }

  get model(): ModelInfo {
    return this.served.info;
  }

  get holdback(): Holdback | null {
    return this.holdbackModel?.holdback ?? null;
  }

  score(features: Float32Array, rows: number, userId?: string): Promise<ScoreResult> {
    if (this.closed) return Promise.reject(closedError());
    const width = this.spec.width;
    if (!(rows >= 0) || features.length < rows * width) {
      return Promise.reject(
        new CroupierError('CROUPIER_ERR_SCORING_FAILED', `${rows} rows need ${rows * width} floats`, {
          rows,
        }),
      );
    }
    if (rows === 0) {
      return Promise.resolve({
        scores: new Float32Array(0),
        rows: new Float32Array(0),
        modelVersion: this.served.info.version,
      });
    }
    const holdback = this.holdbackModel;
    if (holdback !== null && userId !== undefined && holdback.includes(userId)) {
      return holdback.score(features, rows);
    }
    const served = this.served;
    if (served.inline !== null) {
      // Synchronous: no event-loop turn between the request and its scores. The rows are copied, as a run's are.
      const matrix = features.slice(0, rows * width);
      const scores = new Float32Array(rows);
      const started = this.onBatch === undefined ? 0 : performance.now();
      served.inline.score(matrix, rows, scores);
      this.onBatch?.(1, rows, (performance.now() - started) * 1000);
      return Promise.resolve({ scores, rows: matrix, modelVersion: served.info.version });
    }
    if (!this.batching) return this.runAlone(features, rows);
    const offset = this.stagedRows;
    const needed = (offset + rows) * width;
    if (this.staging.length < needed) {
      const grown = new Float32Array(Math.max(needed, this.staging.length * 2));
      grown.set(this.staging.subarray(0, offset * width));
      this.staging = grown;
    }
    this.staging.set(features.subarray(0, rows * width), offset * width);
    this.stagedRows = offset + rows;
    const promise = new Promise<ScoreResult>((resolve, reject) => {
      this.waiters.push({ offset, rows, resolve, reject });
    });
    if (this.stagedRows >= this.maxBatchRows) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      this.openedAt = performance.now();
      setImmediate(this.tick);
    }
    return promise;
  }

  private onTick(): void {
    if (!this.scheduled) return;
    if (
      this.waitMs > 0 &&
      performance.now() - this.openedAt < this.waitMs &&
      this.stagedRows < this.maxBatchRows
    ) {
      setImmediate(this.tick);
      return;
    }
    this.flush();
  }

  private flush(): void {
    this.scheduled = false;
    const waiters = this.waiters;
    const rows = this.stagedRows;
    if (rows === 0) return;
    const staging = this.staging;
    this.waiters = [];
    this.stagedRows = 0;
    this.staging = this.freeBuffers.pop() ?? new Float32Array(staging.length);
    const width = this.spec.width;
    this.run(staging, rows, waiters.length).then(
      ({ scores, modelVersion }) => {
        for (const w of waiters) {
          w.resolve({
            scores: scores.subarray(w.offset, w.offset + w.rows),
            rows: staging.subarray(w.offset * width, (w.offset + w.rows) * width),
            modelVersion,
          });
        }
        // Reused only after every waiter's continuation ran: until then `rows` are views of this buffer.
        setImmediate(() => this.releaseBuffer(staging));
      },
      (error: unknown) => {
        this.releaseBuffer(staging);
        for (const w of waiters) w.reject(error);
      },
    );
  }

  private releaseBuffer(buffer: Float32Array): void {
    if (this.freeBuffers.length < 2 && buffer.length >= this.staging.length) this.freeBuffers.push(buffer);
  }

  private runAlone(features: Float32Array, rows: number): Promise<ScoreResult> {
    return this.run(features.slice(0, rows * this.spec.width), rows, 1);
  }

  /** One `session.run` on the serving model; the model stays alive until the run ends. */
  private async run(matrix: Float32Array, rows: number, requests: number): Promise<ScoreResult> {
    const served = this.served;
    served.inflight++;
    try {
      const width = this.spec.width;
      const input = new ort.Tensor('float32', matrix.subarray(0, rows * width), [rows, width]);
      const started = this.onBatch === undefined ? 0 : performance.now();
      const out = await served.session.run({ [this.spec.input]: input });
      this.onBatch?.(requests, rows, (performance.now() - started) * 1000);
      const tensor = out[this.spec.output] as ort.Tensor;
      return { scores: tensor.data as Float32Array, rows: matrix, modelVersion: served.info.version };
    } catch (error) {
      throw new CroupierError(
        'CROUPIER_ERR_SCORING_FAILED',
        `model ${served.info.version} failed to score ${rows} rows: ${(error as Error).message}`,
        { version: served.info.version, rows },
        { cause: error },
      );
    } finally {
      served.inflight--;
      if (served.retired && served.inflight === 0) this.release(served);
    }
  }

  private release(served: Served): void {
    served.session.release().catch((error: unknown) => {
      this.logger.warn({ err: error, version: served.info.version }, 'releasing a retired model failed');
    });
  }

  reload(): Promise<ModelInfo> {
    if (this.closed) return Promise.reject(closedError());
    const previous = this.reloading ?? Promise.resolve(this.served.info);
    const next = previous.catch(() => undefined).then(() => this.reloadNow());
    this.reloading = next;
    next
      .finally(() => {
        if (this.reloading === next) this.reloading = null;
      })
      .catch(() => undefined);
    return next;
  }

  private async reloadNow(): Promise<ModelInfo> {
    const current = this.served;
    let inPlace = false;
    try {
      const manifest = await readManifest(this.dir);
      const active = activeModel(this.dir, manifest);
      await this.reloadHoldback(manifest);
      inPlace = active.entry.version === current.info.version && active.modelPath === current.info.file;
      const file = await readModelFile(active);
      if (inPlace && file.sha256 === current.info.fileSha256) return current.info;
      const spec = await loadFeatureSpec(active.featureSpecPath);
      checkSpecHash(active, spec.hash);
      if (spec.hash !== this.spec.hash) {
        throw new CroupierError(
          'CROUPIER_ERR_MODEL_SPEC_MISMATCH',
          `model ${active.entry.version} follows feature spec ${spec.hash}, but croupier serves ${this.spec.hash}; restart croupier to change the feature spec`,
          { version: active.entry.version, expected: this.spec.hash, actual: spec.hash },
        );
      }
      const provider = current.info.provider;
      const settings = {
        executionProviders: provider === 'cpu' ? ['cpu'] : [provider, 'cpu'],
        intraOpThreads: this.intraOpThreads,
      };
      const session = await loadModelSession(active, spec, settings, file);
      if (this.closed) {
        await session.release();
        throw closedError();
      }
      const inline = await inlineOf(active, file, spec, session, provider, this.inlineMode, this.logger);
      this.served = {
        session,
        inline,
        info: infoOf(active, file, provider, inline),
        inflight: 0,
        retired: false,
      };
      current.retired = true;
      if (current.inflight === 0) this.release(current);
      if (inPlace) {
        this.logger.warn(
          { model: active.entry.version, previousFile: current.info.fileSha256, file: file.sha256 },
          `model ${active.entry.version} reloaded: its file changed under the same version; carousels logged before and after both name ${active.entry.version} (register a new version for a new model)`,
        );
      } else {
        this.logger.info(
          { model: active.entry.version, previous: current.info.version },
          `model ${active.entry.version} now serving`,
        );
      }
      return this.served.info;
    } catch (error) {
      const serving = `${current.info.version} as loaded at ${new Date(current.info.loadedAt).toISOString()} (${current.info.fileSha256})`;
      this.logger.error(
        { err: error, serving: current.info.version },
        `model reload refused; ${serving} keeps serving`,
      );
      throw inPlace ? keepsServing(error, serving) : error;
    }
  }

  /** Swaps in the manifest's holdback when it changed (a new one, another one, none any more, or its file). */
  private async reloadHoldback(manifest: Manifest): Promise<void> {
    const current = this.holdbackModel;
    if (current === null ? manifest.holdback === undefined : await current.unchangedIn(this.dir, manifest))
      return;
    const next = await loadHoldback(
      this.dir,
      manifest,
      this.spec,
      this.served.info.provider,
      this.intraOpThreads,
    );
    if (this.closed) {
      next?.retire();
      throw closedError();
    }
    this.holdbackModel = next;
    current?.retire();
    this.logger.info(
      { holdback: next?.holdback ?? null, previous: current?.holdback ?? null },
      next === null
        ? 'holdback ended: every user is served by the active model'
        : `holdback: ${next.holdback.percent} % of users served by ${next.holdback.version}`,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.stopWatching?.();
    if (this.scheduled) this.flush();
    this.closed = true;
    await this.reloading?.catch(() => undefined);
    this.holdbackModel?.retire();
    const served = this.served;
    served.retired = true;
    if (served.inflight === 0) await served.session.release();
  }
}

/** `error`, its message saying which copy keeps serving: a file changed under the serving version was refused. */
function keepsServing(error: unknown, serving: string): unknown {
  if (!(error instanceof CroupierError)) return error;
  return new CroupierError(
    error.code,
    `${error.message}; the file changed since it was loaded, and ${serving} keeps serving`,
    { ...error.details, serving },
    { cause: error },
  );
}

function closedError(): CroupierError {
  return new CroupierError('CROUPIER_ERR_SCORER_CLOSED', 'the scorer is closed; create a new one', {});
}
