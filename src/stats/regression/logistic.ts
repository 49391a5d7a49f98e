/**
 * Logistic regression by iteratively reweighted least squares (Newton–Raphson on the Bernoulli likelihood), with
 * Wald inference and the fit statistics statsmodels' Logit reports. Perfectly separated data, whose maximum
 * likelihood estimate does not exist, is refused with CROUPIER_ERR_STATS_SEPARATION.
 */
import { CroupierError } from '../../errors/index.ts';
import { checkConfidence, invalidArgument, type Sample } from '../errors.ts';
import { normalCdf, normalQuantile } from '../special.ts';
import { buildDesign, predictionRows } from './design.ts';
import { inverseGram, qrDecompose, solveLeastSquares } from './linalg.ts';
import type { Coefficient } from './ols.ts';

export interface LogisticOptions {
  intercept?: boolean;
  names?: readonly string[];
  confidence?: number;
  /** Iteration cap of IRLS (default 100). */
  maxIterations?: number;
  /** Convergence tolerance on the change of the log-likelihood (default 1e-12, relative). */
  tolerance?: number;
}

export interface LogisticResult {
  /** Coefficients on the log-odds scale; `statistic` is the Wald z. */
  coefficients: Coefficient[];
  n: number;
  df: { model: number; residual: number };
  logLikelihood: number;
  /** Log-likelihood of the intercept-only model. */
  nullLogLikelihood: number;
  aic: number;
  bic: number;
  /** McFadden's pseudo R² = 1 − ℓ / ℓ₀. */
  mcFaddenR2: number;
  /** Likelihood-ratio test of all slopes against the intercept-only model. */
  likelihoodRatio: { statistic: number; df: number };
  iterations: number;
  fitted: number[];
  covariance: number[][];
  /** Predicted probabilities for new rows of predictors. */
  predict(x: readonly Sample[] | Sample): number[];
}

/** log(1 + e^η) without overflow. */
function softplus(eta: number): number {
  return eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta));
}

function sigmoid(eta: number): number {
  return eta >= 0 ? 1 / (1 + Math.exp(-eta)) : Math.exp(eta) / (1 + Math.exp(eta));
}

function logLikelihoodOf(eta: Float64Array, y: Sample): number {
  let ll = 0;
  for (let i = 0; i < eta.length; i++) ll += y[i] * eta[i] - softplus(eta[i]);
  return ll;
}

function separation(detail: string): never {
  throw new CroupierError(
    'CROUPIER_ERR_STATS_SEPARATION',
    `the outcome is perfectly separated by the predictors (${detail}): the maximum-likelihood coefficients are infinite; drop or merge the separating predictor, or use a penalised model`,
    { argument: 'X' },
  );
}

/** Fits P(y = 1 | x) = 1 / (1 + e^{−xβ}) for y in {0, 1}. */
export function logisticRegression(
  X: readonly Sample[] | Sample,
  y: Sample,
  options: LogisticOptions = {},
): LogisticResult {
  const confidence = checkConfidence(options.confidence);
  const d = buildDesign(X, y, options);
  const { n, p } = d;
  let ones = 0;
  for (let i = 0; i < n; i++) {
    if (y[i] !== 0 && y[i] !== 1)
      invalidArgument(`y[${i}]`, `is ${y[i]}: logistic regression needs outcomes 0 or 1`);
    ones += y[i];
  }
  if (ones === 0 || ones === n) separation(`every outcome is ${ones === 0 ? 0 : 1}`);
  if (n <= p) {
    throw new CroupierError('CROUPIER_ERR_STATS_TOO_FEW', `X has ${n} rows for ${p} coefficients`, {
      argument: 'X',
    });
  }
  // Rejects collinear designs up front with a clear message.
  qrDecompose(d.x, n, p, d.names);
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-12;
  let beta: Float64Array = new Float64Array(p);
  const eta = new Float64Array(n);
  const etaOf = (b: Float64Array, out: Float64Array): void => {
    out.fill(0);
    for (let j = 0; j < p; j++) for (let i = 0; i < n; i++) out[i] += d.x[j * n + i] * b[j];
  };
  etaOf(beta, eta);
  let ll = logLikelihoodOf(eta, y);
  const wx = new Float64Array(n * p);
  const wz = new Float64Array(n);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    for (let i = 0; i < n; i++) {
      const mu = sigmoid(eta[i]);
      const w = Math.max(mu * (1 - mu), 1e-300);
      const sw = Math.sqrt(w);
      wz[i] = sw * (eta[i] + (y[i] - mu) / w);
      for (let j = 0; j < p; j++) wx[j * n + i] = sw * d.x[j * n + i];
    }
    let next: Float64Array;
    try {
      next = solveLeastSquares(qrDecompose(wx, n, p, d.names), wz);
    } catch {
      separation('fitted probabilities reached 0 or 1 while fitting');
    }
    // Step halving keeps every step uphill.
    const trial = new Float64Array(n);
    let step = 1;
    let llNext = Number.NEGATIVE_INFINITY;
    let candidate = next;
    for (let h = 0; h < 30; h++) {
      candidate = beta.map((b, j) => b + step * (next[j] - b));
      etaOf(candidate, trial);
      llNext = logLikelihoodOf(trial, y);
      if (llNext >= ll - 1e-12 * Math.abs(ll)) break;
      step /= 2;
    }
    let moved = 0;
    for (let j = 0; j < p; j++)
      moved = Math.max(moved, Math.abs(candidate[j] - beta[j]) / (1 + Math.abs(beta[j])));
    beta = candidate;
    eta.set(trial);
    const change = Math.abs(llNext - ll);
    ll = llNext;
    let perfect = true;
    for (let i = 0; i < n && perfect; i++) perfect = y[i] === 1 ? eta[i] > 0 : eta[i] < 0;
    if (perfect) separation('a linear combination of them classifies every observation correctly');
    if (change <= tolerance * Math.max(1, Math.abs(ll)) && moved <= 1e-9) {
      converged = true;
      break;
    }
  }
  const fitted = Array.from(eta, sigmoid);
  if (!converged) {
    if (fitted.some((m) => m < 1e-10 || m > 1 - 1e-10))
      separation('some fitted probabilities reached 0 or 1');
    throw new CroupierError(
      'CROUPIER_ERR_STATS_NO_CONVERGENCE',
      `IRLS did not converge in ${maxIterations} iterations: raise maxIterations or rescale the predictors`,
      { argument: 'maxIterations' },
    );
  }
  for (let i = 0; i < n; i++) {
    const sw = Math.sqrt(fitted[i] * (1 - fitted[i]));
    for (let j = 0; j < p; j++) wx[j * n + i] = sw * d.x[j * n + i];
  }
  const cov = inverseGram(qrDecompose(wx, n, p, d.names));
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const coefficients: Coefficient[] = d.names.map((name, j) => {
    const se = Math.sqrt(cov[j * p + j]);
    const stat = beta[j] / se;
    return {
      name,
      estimate: beta[j],
      standardError: se,
      statistic: stat,
      pValue: Math.min(1, 2 * normalCdf(-Math.abs(stat))),
      ci: [beta[j] - z * se, beta[j] + z * se],
    };
  });
  const rate = ones / n;
  const nullLogLikelihood = ones * Math.log(rate) + (n - ones) * Math.log1p(-rate);
  const dfModel = d.intercept ? p - 1 : p;
  return {
    coefficients,
    n,
    df: { model: dfModel, residual: n - p },
    logLikelihood: ll,
    nullLogLikelihood,
    aic: -2 * ll + 2 * p,
    bic: -2 * ll + Math.log(n) * p,
    mcFaddenR2: 1 - ll / nullLogLikelihood,
    likelihoodRatio: { statistic: 2 * (ll - nullLogLikelihood), df: dfModel },
    iterations,
    fitted,
    covariance: Array.from({ length: p }, (_, i) => Array.from(cov.subarray(i * p, i * p + p))),
    predict(x) {
      return predictionRows(x, d).map((row) => sigmoid(row.reduce((s, v, j) => s + v * beta[j], 0)));
    },
  };
}
