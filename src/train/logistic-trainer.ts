/**
 * L2-regularised logistic regression by Newton's method on standardized columns. Pure and deterministic.
 *
 * Minimises (1/n) Σ logloss + (λ/2) |w|² (the intercept is not penalised). The penalty keeps the optimum
 * finite when a column separates the labels (a category that was never clicked), where the project's
 * maximum-likelihood `logisticRegression` (src/stats) must refuse; with λ = 0 both give the same coefficients.
 * Each step solves the penalised Newton system by Cholesky and halves until the objective falls.
 */
import { CroupierError } from '../errors/index.ts';
import { type Network, type Standardizer, sigmoid } from './network.ts';

export interface LogisticTrainOptions {
  /** λ, per row (default 1e-4). */
  l2?: number;
  maxIterations?: number;
  /** Stop when the largest change of a coefficient is below this (default 1e-9). */
  tolerance?: number;
}

export interface LogisticFit {
  network: Network;
  iterations: number;
  /** The penalised objective at the optimum. */
  objective: number;
  converged: boolean;
}

function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** Solves A x = b for symmetric positive definite A (p × p, row-major); A is overwritten. */
export function choleskySolve(a: Float64Array, b: Float64Array, p: number): Float64Array {
  for (let j = 0; j < p; j++) {
    let diag = a[j * p + j];
    for (let k = 0; k < j; k++) diag -= a[j * p + k] * a[j * p + k];
    if (!(diag > 0)) {
      throw new CroupierError(
        'CROUPIER_ERR_TRAIN_OPTION',
        'the logistic regression system is singular: set train.l2 above 0',
        { column: j },
      );
    }
    const l = Math.sqrt(diag);
    a[j * p + j] = l;
    for (let i = j + 1; i < p; i++) {
      let s = a[i * p + j];
      for (let k = 0; k < j; k++) s -= a[i * p + k] * a[j * p + k];
      a[i * p + j] = s / l;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < p; i++) {
    let s = x[i];
    for (let k = 0; k < i; k++) s -= a[i * p + k] * x[k];
    x[i] = s / a[i * p + i];
  }
  for (let i = p - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < p; k++) s -= a[k * p + i] * x[k];
    x[i] = s / a[i * p + i];
  }
  return x;
}

/**
 * Fits the rows `rows` of x (n × d) with labels y. Returns a one-layer network over standardized columns
 * (`standardizer`).
 */
export function trainLogistic(
  x: Float32Array,
  d: number,
  y: Uint8Array,
  rows: ArrayLike<number>,
  standardizer: Standardizer,
  options: LogisticTrainOptions = {},
): LogisticFit {
  const l2 = options.l2 ?? 1e-4;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-9;
  const n = rows.length;
  if (n === 0) throw new CroupierError('CROUPIER_ERR_TRAIN_NO_DATA', 'no training rows', {});
  const p = d + 1; // the intercept last
  const { mean, scale } = standardizer;
  const z = new Float64Array(p);
  z[d] = 1;
  let beta = new Float64Array(p);
  let positives = 0;
  for (let k = 0; k < n; k++) positives += y[rows[k]];
  const base = Math.min(1 - 1e-6, Math.max(1e-6, positives / n));
  beta[d] = Math.log(base / (1 - base));

  const load = (r: number) => {
    const off = r * d;
    for (let c = 0; c < d; c++) z[c] = (x[off + c] - mean[c]) / scale[c];
  };
  const objectiveOf = (b: Float64Array): number => {
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const r = rows[k];
      load(r);
      let eta = 0;
      for (let c = 0; c < p; c++) eta += b[c] * z[c];
      sum += softplus(eta) - y[r] * eta;
    }
    let penalty = 0;
    for (let c = 0; c < d; c++) penalty += b[c] * b[c];
    return sum / n + (l2 / 2) * penalty;
  };

  let objective = objectiveOf(beta);
  let iterations = 0;
  let converged = false;
  const gradient = new Float64Array(p);
  const hessian = new Float64Array(p * p);
  while (iterations < maxIterations) {
    iterations++;
    gradient.fill(0);
    hessian.fill(0);
    for (let k = 0; k < n; k++) {
      const r = rows[k];
      load(r);
      let eta = 0;
      for (let c = 0; c < p; c++) eta += beta[c] * z[c];
      const mu = sigmoid(eta);
      const residual = mu - y[r];
      const w = mu * (1 - mu);
      for (let i = 0; i < p; i++) {
        const zi = z[i];
        gradient[i] += residual * zi;
        const wz = w * zi;
        const row = i * p;
        for (let j = 0; j <= i; j++) hessian[row + j] += wz * z[j];
      }
    }
    for (let i = 0; i < p; i++) {
      gradient[i] /= n;
      for (let j = 0; j <= i; j++) {
        hessian[i * p + j] /= n;
        hessian[j * p + i] = hessian[i * p + j];
      }
    }
    for (let c = 0; c < d; c++) {
      gradient[c] += l2 * beta[c];
      hessian[c * p + c] += l2;
    }
    hessian[d * p + d] += 1e-12;
    const step = choleskySolve(hessian, gradient, p);
    let t = 1;
    let next = beta;
    let nextObjective = objective;
    for (let halving = 0; halving < 30; halving++) {
      next = beta.map((b, c) => b - t * step[c]);
      nextObjective = objectiveOf(next);
      if (nextObjective <= objective + 1e-15) break;
      t /= 2;
    }
    let change = 0;
    for (let c = 0; c < p; c++) change = Math.max(change, Math.abs(next[c] - beta[c]));
    beta = next;
    objective = nextObjective;
    if (change < tolerance) {
      converged = true;
      break;
    }
  }
  return {
    network: {
      layers: [
        {
          inputs: d,
          outputs: 1,
          weights: beta.slice(0, d),
          bias: Float64Array.of(beta[d]),
          activation: 'sigmoid',
        },
      ],
    },
    iterations,
    objective,
    converged,
  };
}
