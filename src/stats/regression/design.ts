/**
 * Checking and assembling a design matrix: rows of predictors, an optional leading intercept column.
 */
import { CroupierError } from '../../errors/index.ts';
import { checkSample, invalidArgument, type Sample } from '../errors.ts';
import { toColumnMajor } from './linalg.ts';

export interface Design {
  n: number;
  p: number;
  /** Column-major n × p. */
  x: Float64Array;
  names: string[];
  intercept: boolean;
}

/** One predictor given as a plain vector becomes a one-column matrix. */
export function asRows(X: readonly Sample[] | Sample): readonly Sample[] {
  if (X !== null && typeof X === 'object' && X.length > 0 && typeof X[0] === 'number') {
    return Array.from(X as Sample, (v) => [v]);
  }
  return X as readonly Sample[];
}

export function buildDesign(
  matrix: readonly Sample[] | Sample,
  y: Sample,
  options: { intercept?: boolean; names?: readonly string[] },
): Design {
  const X = asRows(matrix);
  if (!Array.isArray(X) || X.length === 0) {
    throw new CroupierError(
      'CROUPIER_ERR_STATS_EMPTY_SAMPLE',
      'X is empty: give one row of predictors per observation',
      {
        argument: 'X',
      },
    );
  }
  checkSample('y', y);
  if (X.length !== y.length) {
    throw new CroupierError(
      'CROUPIER_ERR_STATS_LENGTH_MISMATCH',
      `X has ${X.length} rows but y has ${y.length} values: give one row per observation`,
      { argument: 'X', lengths: [X.length, y.length] },
    );
  }
  const k = X[0].length;
  for (let i = 0; i < X.length; i++) {
    if (X[i].length !== k) {
      throw new CroupierError(
        'CROUPIER_ERR_STATS_LENGTH_MISMATCH',
        `X[${i}] has ${X[i].length} predictors but X[0] has ${k}`,
        {
          argument: 'X',
          row: i,
        },
      );
    }
    checkSample(`X[${i}]`, X[i], 0);
  }
  const intercept = options.intercept ?? true;
  const p = k + (intercept ? 1 : 0);
  if (p === 0) invalidArgument('X', 'has no predictors and no intercept');
  const names = options.names ? [...options.names] : Array.from({ length: k }, (_, j) => `x${j + 1}`);
  if (names.length !== k) {
    throw new CroupierError(
      'CROUPIER_ERR_STATS_LENGTH_MISMATCH',
      `names has ${names.length} entries but X has ${k} predictors`,
      {
        argument: 'names',
      },
    );
  }
  const rows = intercept ? X.map((r) => [1, ...Array.from(r)]) : X;
  return {
    n: X.length,
    p,
    x: toColumnMajor(rows, p),
    names: intercept ? ['intercept', ...names] : names,
    intercept,
  };
}

/** Row-major rows for prediction, with the intercept prepended when the model has one. */
export function predictionRows(
  x: readonly Sample[] | Sample,
  design: { p: number; intercept: boolean },
): number[][] {
  const k = design.p - (design.intercept ? 1 : 0);
  return asRows(x).map((r, i) => {
    if (r.length !== k) {
      throw new CroupierError(
        'CROUPIER_ERR_STATS_LENGTH_MISMATCH',
        `x[${i}] has ${r.length} predictors but the model has ${k}`,
        {
          argument: 'x',
          row: i,
        },
      );
    }
    checkSample(`x[${i}]`, r, 0);
    return design.intercept ? [1, ...Array.from(r)] : Array.from(r);
  });
}
