/**
 * From a training set to a trained click model: the time split (training rows, the validation slice at their
 * end, the holdout), the position column, standardization, the trainer of the kind asked for, and the served
 * network (standardization and the neutral position folded in). Pure and seeded.
 */
import { CroupierError } from '../errors/index.ts';
import { trainLogistic } from './logistic-trainer.ts';
import { trainMlp } from './mlp-trainer.ts';
import { fitStandardizer, foldStandardizer, type Network, predict, type Standardizer } from './network.ts';
import { neutralPosition, withPosition } from './position.ts';
import type { TrainingSet } from './training-set.ts';

export const MODEL_KINDS = ['logistic', 'mlp'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export interface TrainSettings {
  kind: ModelKind;
  seed: number;
  /** L2 penalty of the logistic regression. */
  l2: number;
  /** The last share of the training rows that the MLP stops early on (and does not fit). */
  validationFraction: number;
  /**
   * Spec columns the model must not learn from (held at 0 while fitting, so their weights stay 0): counts of how
   * often the serving policy showed something measure that policy, not the item (see `heldOutColumns`).
   */
  heldOutColumns?: readonly number[];
  mlp: {
    hidden: readonly number[];
    learningRate: number;
    batchSize: number;
    maxEpochs: number;
    patience: number;
    l2: number;
  };
}

export interface TrainedModel {
  kind: ModelKind;
  /** Over standardized columns: the feature spec's, then the position column. */
  network: Network;
  standardizer: Standardizer;
  /** Spec width; the position column is the one after. */
  width: number;
  /** The position column's serving value (its mean over the fitted rows). */
  neutralPosition: number;
  hyperParameters: Record<string, unknown>;
  /** What the trainer reports (iterations, epochs, validation losses…). */
  training: Record<string, unknown>;
  rows: { fit: number; validation: number; holdout: number };
}

/** Indices of training rows (time order) and holdout rows. */
export function splitRows(set: TrainingSet, validationFraction: number) {
  const train: number[] = [];
  const holdout: number[] = [];
  for (let r = 0; r < set.rows; r++) (set.holdout[r] === 1 ? holdout : train).push(r);
  const cut = Math.floor(train.length * (1 - validationFraction));
  return {
    train: Int32Array.from(train),
    fit: Int32Array.from(train.slice(0, cut)),
    validation: Int32Array.from(train.slice(cut)),
    holdout: Int32Array.from(holdout),
  };
}

function checkTrainable(set: TrainingSet, rows: Int32Array, what: string): void {
  let clicks = 0;
  for (const r of rows) clicks += set.labels[r];
  if (rows.length === 0 || clicks === 0 || clicks === rows.length) {
    throw new CroupierError(
      'CROUPIER_ERR_TRAIN_NO_DATA',
      `the ${what} rows (${rows.length}, ${clicks} clicked) need both clicks and non-clicks: widen the window (--from/--to) or wait for more traffic`,
      { rows: rows.length, clicks },
    );
  }
}

/**
 * The indices of `names` among the spec's columns; an unknown name is refused. Exposure counts (how often an
 * item or a user was shown something) are what one holds out (none by default, `train.heldOutColumns`): in
 * logged bandit data the policy shows its winners most, so a model that learns "more impressions, more clicks"
 * serves a rich-get-richer loop that locks onto whatever was shown first. The learning proof holds them out
 * with the item's age, which in the simulated catalog is the clock of the run (README, Retraining).
 */
export function heldOutColumns(columns: readonly string[], names: readonly string[]): number[] {
  return names.map((name) => {
    const index = columns.indexOf(name);
    if (index < 0) {
      throw new CroupierError(
        'CROUPIER_ERR_TRAIN_OPTION',
        `train.heldOutColumns names '${name}', which the feature spec does not have (its columns: ${columns.join(', ')})`,
        { name },
      );
    }
    return index;
  });
}

/** The network with the first layer's weights of `columns` set to 0 (the MLP's initial weights linger there). */
function withoutColumns(network: Network, columns: readonly number[] = []): Network {
  if (columns.length === 0) return network;
  const [first, ...rest] = network.layers;
  const weights = Float64Array.from(first.weights);
  for (const c of columns) weights.fill(0, c * first.outputs, (c + 1) * first.outputs);
  return { ...network, layers: [{ ...first, weights }, ...rest] };
}

export function trainModel(set: TrainingSet, settings: TrainSettings): TrainedModel {
  const split = splitRows(set, settings.validationFraction);
  checkTrainable(set, split.train, 'training');
  if (split.holdout.length === 0) {
    throw new CroupierError(
      'CROUPIER_ERR_TRAIN_NO_DATA',
      'the holdout is empty: the window must span more than one instant',
      {},
    );
  }
  const d = set.width + 1;
  const x = withPosition(set.features, set.slots, set.width);
  for (const c of settings.heldOutColumns ?? []) for (let r = 0; r < set.rows; r++) x[r * d + c] = 0;
  if (settings.kind === 'logistic') {
    const standardizer = fitStandardizer(x, d, split.train);
    const fit = trainLogistic(x, d, set.labels, split.train, standardizer, { l2: settings.l2 });
    return {
      kind: 'logistic',
      network: withoutColumns(fit.network, settings.heldOutColumns),
      standardizer,
      width: set.width,
      neutralPosition: neutralPosition(set.slots, split.train),
      hyperParameters: { l2: settings.l2, position: 'slot feature held at its mean' },
      training: { iterations: fit.iterations, converged: fit.converged, objective: fit.objective },
      rows: { fit: split.train.length, validation: 0, holdout: split.holdout.length },
    };
  }
  checkTrainable(set, split.fit, 'MLP fitting');
  const standardizer = fitStandardizer(x, d, split.fit);
  const fit = trainMlp(x, d, set.labels, split.fit, split.validation, standardizer, {
    ...settings.mlp,
    seed: settings.seed,
  });
  return {
    kind: 'mlp',
    network: withoutColumns(fit.network, settings.heldOutColumns),
    standardizer,
    width: set.width,
    neutralPosition: neutralPosition(set.slots, split.fit),
    hyperParameters: {
      ...settings.mlp,
      hidden: [...settings.mlp.hidden],
      validationFraction: settings.validationFraction,
      position: 'slot feature held at its mean',
    },
    training: {
      epochs: fit.epochs,
      bestEpoch: fit.bestEpoch,
      stoppedEarly: fit.stoppedEarly,
      validationLoss: fit.validationLoss,
    },
    rows: { fit: split.fit.length, validation: split.validation.length, holdout: split.holdout.length },
  };
}

/** The network the registry serves: over the spec's raw columns, the position held at its neutral value. */
export function servedNetwork(model: TrainedModel): Network {
  return foldStandardizer(model.network, model.standardizer, new Map([[model.width, model.neutralPosition]]));
}

/** The spec's feature rows of `rows` (no position column), as the gateway would score them. */
export function featureRows(set: TrainingSet, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * set.width);
  rows.forEach((r, k) => {
    out.set(set.features.subarray(r * set.width, (r + 1) * set.width), k * set.width);
  });
  return out;
}

/** The trainer's own predictions for `rows`, the position held at its neutral value. */
export function trainerPredictions(model: TrainedModel, set: TrainingSet, rows: Int32Array): Float64Array {
  const d = set.width + 1;
  const x = new Float32Array(rows.length * d);
  rows.forEach((r, k) => {
    x.set(set.features.subarray(r * set.width, (r + 1) * set.width), k * d);
  });
  return predict(model.network, model.standardizer, x, d, {
    column: set.width,
    value: model.neutralPosition,
  });
}
