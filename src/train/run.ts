/**
 * One training run, end to end: the archive files of the window → the training set (DuckDB) → the trainer →
 * ONNX → parity on the holdout → the active model scored on the same holdout rows → metrics and lineage.
 * Writes nothing to the registry: the caller adds the version when parity passed (`src/models`).
 */
import { readFile } from 'node:fs/promises';
import type { ArchiveFileSystem } from '../archive/fs/archive-fs.ts';
import type { Config } from '../config/index.ts';
import type { Lineage } from '../models/lineage.ts';
import { loadFeatureSpec } from '../scoring/feature-spec.ts';
import { activeModel, type ModelEntry, readManifest } from '../scoring/model-registry.ts';
import { offsetRanges, openArchiveInput } from './archive-input.ts';
import { compareOnHoldout, comparisonTable, type HoldoutComparison, reliabilitySvg } from './evaluate.ts';
import { checkParity, exportNetwork, type ParityResult, scoreWithOnnx } from './onnx-export.ts';
import { atLoggedSlot, fitSlotOffset } from './position.ts';
import {
  featureRows,
  heldOutColumns,
  type ModelKind,
  servedNetwork,
  splitRows,
  trainerPredictions,
  trainModel,
} from './train-model.ts';
import { buildTrainingSet } from './training-set.ts';

export interface TrainRunOptions {
  config: Readonly<Config>;
  /** The archive to read (from `archive.uri` unless overridden by the caller). */
  archive: ArchiveFileSystem;
  fromMs: number | null;
  toMs: number | null;
  kind: ModelKind;
  /** Version name of the new model. */
  version: string;
  /** The code's version (git commit or package version) recorded in the lineage. */
  codeVersion: string;
  now?: Date;
}

export interface TrainRun {
  version: string;
  kind: ModelKind;
  onnx: Uint8Array;
  parity: ParityResult;
  /** At the logged slots: what the gate reads. */
  comparison: HoldoutComparison;
  /** As served, the slot held neutral. */
  asServed: HoldoutComparison;
  table: string;
  reliabilitySvg: string;
  lineage: Lineage;
  /** The manifest entry to add (not active). */
  entry: ModelEntry;
  timings: { trainingSetMs: number; trainMs: number; evaluateMs: number };
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function runTraining(options: TrainRunOptions): Promise<TrainRun> {
  const { config } = options;
  const settings = config.train;
  const registryDir = config.model.registryDir;
  const manifest = await readManifest(registryDir);
  const active = activeModel(registryDir, manifest);
  const spec = await loadFeatureSpec(active.featureSpecPath);

  const started = performance.now();
  const input = await openArchiveInput(options.archive, {
    fromMs: options.fromMs,
    toMs: options.toMs,
    attributionWindowMs: settings.attributionWindowSeconds * 1000,
  });
  let set: Awaited<ReturnType<typeof buildTrainingSet>>;
  try {
    set = await buildTrainingSet({
      files: input.localPaths,
      fromMs: options.fromMs,
      toMs: options.toMs,
      attributionWindowSeconds: settings.attributionWindowSeconds,
      holdoutFraction: settings.holdoutFraction,
      featureSpecHash: spec.hash,
      width: spec.width,
      memoryLimit: settings.memoryLimit,
      tempDir: settings.tempDir,
    });
  } finally {
    await input.release();
  }
  const trainingSetMs = performance.now() - started;

  const trainStarted = performance.now();
  const model = trainModel(set, {
    kind: options.kind,
    seed: settings.seed,
    l2: settings.l2,
    validationFraction: settings.validationFraction,
    mlp: settings.mlp,
    heldOutColumns: heldOutColumns(spec.columns, settings.heldOutColumns),
  });
  const trainMs = performance.now() - trainStarted;

  const evaluateStarted = performance.now();
  const onnx = exportNetwork(servedNetwork(model), {
    inputName: spec.input,
    outputName: spec.output,
    docString: `croupier ${options.kind} click model over ${spec.name} v${spec.version}, trained by croupier train`,
    metadata: { version: options.version, featureSpecHash: spec.hash, codeVersion: options.codeVersion },
  });
  const { holdout, train } = splitRows(set, settings.validationFraction);
  const holdoutX = featureRows(set, holdout);
  const predictions = trainerPredictions(model, set, holdout);
  const names = { input: spec.input, output: spec.output };
  const parity = await checkParity(onnx, holdoutX, spec.width, predictions, names, settings.parityTolerance);

  const rows = {
    labels: Uint8Array.from(holdout, (r) => set.labels[r]),
    requestIds: Array.from(holdout, (r) => set.requestIds[r]),
    itemIds: Array.from(holdout, (r) => set.itemIds[r]),
  };
  // Each model's position-neutral p̂ moved to the slot it was logged in, by an offset fitted on the training
  // rows (src/train/position.ts says why): the gate compares models at the logged slots.
  const holdoutSlots = Int32Array.from(holdout, (r) => set.slots[r]);
  const trainSlots = Int32Array.from(train, (r) => set.slots[r]);
  const trainLabels = Uint8Array.from(train, (r) => set.labels[r]);
  const slotted = (trainScores: ArrayLike<number>, holdoutScores: ArrayLike<number>) => {
    const offset = fitSlotOffset(trainScores, trainSlots, trainLabels);
    return { offset, probabilities: atLoggedSlot(holdoutScores, holdoutSlots, offset) };
  };
  const candidateAtSlot = slotted(trainerPredictions(model, set, train), predictions);
  let activeScores: { version: string; probabilities: Float32Array } | null = null;
  let activeAtSlot: ReturnType<typeof slotted> | null = null;
  if (active.entry.featureSpecHash === spec.hash) {
    const bytes = await readFile(active.modelPath);
    activeScores = {
      version: active.entry.version,
      probabilities: await scoreWithOnnx(bytes, holdoutX, spec.width, names),
    };
    activeAtSlot = slotted(
      await scoreWithOnnx(bytes, featureRows(set, train), spec.width, names),
      activeScores.probabilities,
    );
  }
  const metricOptions = { confidence: settings.gate.aucConfidence };
  const comparison = compareOnHoldout(
    rows,
    candidateAtSlot.probabilities,
    activeScores &&
      activeAtSlot && { version: activeScores.version, probabilities: activeAtSlot.probabilities },
    metricOptions,
  );
  const asServed = compareOnHoldout(rows, predictions, activeScores, metricOptions);
  const evaluateMs = performance.now() - evaluateStarted;

  const created = (options.now ?? new Date()).toISOString();
  const c = comparison.candidate;
  const lineage: Lineage = {
    version: options.version,
    kind: options.kind,
    created,
    codeVersion: options.codeVersion,
    seed: settings.seed,
    hyperParameters: model.hyperParameters,
    featureSpec: { file: active.entry.featureSpec, hash: spec.hash, width: spec.width },
    archive: { location: input.location, files: input.files, offsetRanges: offsetRanges(input.files) },
    window: {
      from: iso(set.window.fromMs),
      to: iso(set.window.toMs),
      holdoutStart: iso(set.window.holdoutStartMs),
      attributionWindowSeconds: settings.attributionWindowSeconds,
    },
    rows: { ...set.counts, fit: model.rows.fit, validation: model.rows.validation },
    carouselOffsets: set.carouselOffsets,
    position: {
      method: 'slot feature log(1 + slot), held at its training mean when serving',
      neutralValue: model.neutralPosition,
    },
    training: model.training,
    parity,
    metrics: {
      ...comparison,
      slotOffsets: { candidate: candidateAtSlot.offset, active: activeAtSlot?.offset ?? null },
      asServed,
    },
    gateEvidence: {
      parityPassed: parity.passed,
      candidateLogLoss: c.logLoss,
      comparedWith: comparison.activeVersion,
      activeLogLoss: comparison.active?.logLoss ?? null,
      aucDifference: comparison.aucDifference
        ? {
            difference: comparison.aucDifference.difference,
            ci: comparison.aucDifference.ci,
            confidence: comparison.aucDifference.confidence,
          }
        : null,
    },
  };
  const metrics: Record<string, number> = {
    holdoutRows: c.rows,
    holdoutLogLoss: c.logLoss,
    holdoutEce: c.ece,
    holdoutObservedOverExpected: c.observedOverExpected,
    parityMaxAbsDiff: parity.maxAbsDiff,
    trainingRows: model.rows.fit + model.rows.validation,
  };
  if (c.auc) metrics.holdoutAuc = c.auc.auc;
  if (c.ranking) metrics[`holdoutNdcg@${c.ranking.k}`] = c.ranking.ndcg;
  if (comparison.logLossDifference !== null) metrics.logLossMinusActive = comparison.logLossDifference;
  for (const [key, value] of Object.entries(metrics)) if (!Number.isFinite(value)) delete metrics[key];
  const entry: ModelEntry = {
    version: options.version,
    file: `${options.version}.onnx`,
    created,
    featureSpec: active.entry.featureSpec,
    featureSpecHash: spec.hash,
    metrics,
    description: `${options.kind === 'mlp' ? 'MLP' : 'Logistic regression'} trained by croupier train on ${set.counts.rows} shown items (${iso(set.window.fromMs)} to ${iso(set.window.toMs)}); lineage in ${options.version}.lineage.json`,
  };
  return {
    version: options.version,
    kind: options.kind,
    onnx,
    parity,
    comparison,
    asServed,
    table: [
      'At the logged slots (each model moved there by its slot offset fitted on the training rows; the gate reads these):',
      comparisonTable(comparison, options.version),
      '',
      'As served (the slot held neutral), on the same rows:',
      comparisonTable(asServed, options.version),
    ].join('\n'),
    reliabilitySvg: reliabilitySvg(comparison, options.version),
    lineage,
    entry,
    timings: { trainingSetMs, trainMs, evaluateMs },
  };
}
