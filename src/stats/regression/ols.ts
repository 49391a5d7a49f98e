/**
 * Ordinary least squares by Householder QR, with the inference and diagnostics statsmodels reports:
 * coefficients, standard errors, t, p, intervals, R², adjusted R², the overall F test, log-likelihood, AIC, BIC,
 * Mallows' Cp, Durbin–Watson, Breusch–Pagan, VIF, leverage, Cook's distance, and prediction intervals.
 */
import { CroupierError } from '../../errors/index.ts';
import { fisherF, studentT } from '../distributions/sampling.ts';
import { checkConfidence, checkPositive, type Sample } from '../errors.ts';
import { buildDesign, predictionRows } from './design.ts';
import { breuschPagan, durbinWatson, varianceInflation } from './diagnostics.ts';
import { hatDiagonal, inverseGram, qrDecompose, solveLeastSquares } from './linalg.ts';

export interface OlsOptions {
  /** Prepend a column of ones (default true). */
  intercept?: boolean;
  /** Names of the predictors (default x1, x2, …). */
  names?: readonly string[];
  /** Confidence of the coefficient intervals (default 0.95). */
  confidence?: number;
  /** Residual mean square of the full model, for Mallows' Cp (or pass the full model's result). */
  fullModel?: { residualMeanSquare: number };
}

export interface Coefficient {
  name: string;
  estimate: number;
  standardError: number;
  statistic: number;
  pValue: number;
  ci: [number, number];
}

export interface Prediction {
  mean: number[];
  /** Confidence interval of the mean response. */
  meanCi: [number, number][];
  /** Prediction interval of a new observation. */
  predictionInterval: [number, number][];
}

export interface OlsResult {
  coefficients: Coefficient[];
  n: number;
  /** Model and residual degrees of freedom. */
  df: { model: number; residual: number };
  rSquared: number;
  adjustedRSquared: number;
  /** Overall F test of every slope being 0 (of every coefficient when there is no intercept). */
  fTest: { statistic: number; pValue: number; df: [number, number] };
  residualMeanSquare: number;
  /** Residual standard error √MSE. */
  sigma: number;
  logLikelihood: number;
  aic: number;
  bic: number;
  mallowsCp?: number;
  fitted: number[];
  residuals: number[];
  durbinWatson: number;
  /** Koenker's studentised Breusch–Pagan LM test (models with an intercept). */
  breuschPagan?: { statistic: number; pValue: number; df: number };
  /** Variance inflation factor per predictor (the intercept excluded). */
  vif: number[];
  leverage: number[];
  cooksDistance: number[];
  /** Covariance matrix of the coefficients, row-major. */
  covariance: number[][];
  /** Predictions at new rows of predictors (or values of the single predictor). */
  predict(x: readonly Sample[] | Sample, options?: { confidence?: number }): Prediction;
}

/**
 * Fits y = Xβ + ε by least squares. X holds one row of predictors per observation, or is a plain vector for a
 * single predictor.
 */
export function ols(X: readonly Sample[] | Sample, y: Sample, options: OlsOptions = {}): OlsResult {
  const confidence = checkConfidence(options.confidence);
  const d = buildDesign(X, y, options);
  const { n, p } = d;
  if (n <= p) {
    throw new CroupierError(
      'CROUPIER_ERR_STATS_TOO_FEW',
      `X has ${n} rows for ${p} coefficients: OLS needs more rows than coefficients`,
      {
        argument: 'X',
      },
    );
  }
  const f = qrDecompose(d.x, n, p, d.names);
  const beta = solveLeastSquares(f, y);
  const fitted = new Array<number>(n).fill(0);
  for (let j = 0; j < p; j++) for (let i = 0; i < n; i++) fitted[i] += d.x[j * n + i] * beta[j];
  const residuals = fitted.map((v, i) => y[i] - v);
  const ssr = residuals.reduce((s, e) => s + e * e, 0);
  let ybar = 0;
  for (let i = 0; i < n; i++) ybar += y[i];
  ybar /= n;
  let tss = 0;
  for (let i = 0; i < n; i++) tss += d.intercept ? (y[i] - ybar) ** 2 : y[i] * y[i];
  const dfResid = n - p;
  const dfModel = d.intercept ? p - 1 : p;
  const mse = ssr / dfResid;
  const cov = inverseGram(f);
  const tDist = studentT({ df: dfResid });
  const q = tDist.quantile(1 - (1 - confidence) / 2);
  const coefficients: Coefficient[] = d.names.map((name, j) => {
    const se = Math.sqrt(mse * cov[j * p + j]);
    const t = beta[j] / se;
    return {
      name,
      estimate: beta[j],
      standardError: se,
      statistic: t,
      pValue: Math.min(1, 2 * tDist.sf(Math.abs(t))),
      ci: [beta[j] - q * se, beta[j] + q * se],
    };
  });
  const rSquared = tss > 0 ? 1 - ssr / tss : Number.NaN;
  const fStat = dfModel > 0 ? (tss - ssr) / dfModel / mse : Number.NaN;
  const logLikelihood = (-n / 2) * (Math.log(2 * Math.PI) + Math.log(ssr / n) + 1);
  const leverage = Array.from(hatDiagonal(f));
  const result: OlsResult = {
    coefficients,
    n,
    df: { model: dfModel, residual: dfResid },
    rSquared,
    adjustedRSquared: 1 - ((n - (d.intercept ? 1 : 0)) / dfResid) * (1 - rSquared),
    fTest: {
      statistic: fStat,
      pValue: dfModel > 0 ? fisherF({ df1: dfModel, df2: dfResid }).sf(fStat) : Number.NaN,
      df: [dfModel, dfResid],
    },
    residualMeanSquare: mse,
    sigma: Math.sqrt(mse),
    logLikelihood,
    aic: -2 * logLikelihood + 2 * p,
    bic: -2 * logLikelihood + Math.log(n) * p,
    fitted,
    residuals,
    durbinWatson: durbinWatson(residuals),
    vif: varianceInflation(d),
    leverage,
    cooksDistance: residuals.map((e, i) => ((e * e) / (p * mse)) * (leverage[i] / (1 - leverage[i]) ** 2)),
    covariance: Array.from({ length: p }, (_, i) =>
      Array.from(cov.subarray(i * p, i * p + p), (v) => v * mse),
    ),
    predict(x, predictOptions = {}) {
      const c = checkConfidence(predictOptions.confidence);
      const qq = tDist.quantile(1 - (1 - c) / 2);
      const out: Prediction = { mean: [], meanCi: [], predictionInterval: [] };
      for (const row of predictionRows(x, d)) {
        let m = 0;
        let v = 0;
        for (let i = 0; i < p; i++) {
          m += row[i] * beta[i];
          for (let j = 0; j < p; j++) v += row[i] * cov[i * p + j] * row[j];
        }
        const seMean = Math.sqrt(v * mse);
        const seObs = Math.sqrt(v * mse + mse);
        out.mean.push(m);
        out.meanCi.push([m - qq * seMean, m + qq * seMean]);
        out.predictionInterval.push([m - qq * seObs, m + qq * seObs]);
      }
      return out;
    },
  };
  if (d.intercept && p > 1) result.breuschPagan = breuschPagan(d, residuals);
  if (options.fullModel !== undefined) {
    checkPositive('fullModel.residualMeanSquare', options.fullModel.residualMeanSquare);
    result.mallowsCp = ssr / options.fullModel.residualMeanSquare - n + 2 * p;
  }
  return result;
}
