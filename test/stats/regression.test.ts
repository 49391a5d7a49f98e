import { describe, expect, it } from 'vitest';
import { logisticRegression, ols } from '../../src/stats/index.ts';
import { expectAllClose, expectClose, expectPValue, loadFixture } from './support.ts';

interface OlsCase {
  name: string;
  X: number[][];
  y: number[];
  intercept: boolean;
  confidence: number;
  fullMse?: number;
  newX?: number[][];
  expected: Record<string, number | number[] | number[][]>;
}
interface LogitCase {
  name: string;
  X: number[][];
  y: number[];
  intercept: boolean;
  expected: Record<string, number | number[] | number[][]>;
}

const fixture = loadFixture<{ ols: OlsCase[]; logistic: LogitCase[] }>('regression.json');

function expectPValues(actual: number[], expected: number[], label: string): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((p, i) => {
    expectPValue(p, expected[i], `${label}[${i}]`);
  });
}

function expectIntervals(actual: [number, number][], expected: number[][], label: string): void {
  expectAllClose(actual.flat(), expected.flat(), label);
}

describe('OLS agrees with statsmodels', () => {
  for (const c of fixture.ols) {
    it(c.name, () => {
      const e = c.expected;
      const fit = ols(c.X, c.y, {
        intercept: c.intercept,
        confidence: c.confidence,
        fullModel: c.fullMse === undefined ? undefined : { residualMeanSquare: c.fullMse },
      });
      expectAllClose(
        fit.coefficients.map((b) => b.estimate),
        e.coefficients as number[],
        'coefficients',
      );
      expectAllClose(
        fit.coefficients.map((b) => b.standardError),
        e.standardErrors as number[],
        'standard errors',
      );
      expectAllClose(
        fit.coefficients.map((b) => b.statistic),
        e.tValues as number[],
        't',
      );
      expectPValues(
        fit.coefficients.map((b) => b.pValue),
        e.pValues as number[],
        'p',
      );
      expectIntervals(
        fit.coefficients.map((b) => b.ci),
        e.ci as number[][],
        'ci',
      );
      expectClose(fit.rSquared, e.rSquared as number, 'R²');
      expectClose(fit.adjustedRSquared, e.adjustedRSquared as number, 'adjusted R²');
      expectClose(fit.fTest.statistic, e.fStatistic as number, 'F');
      expectPValue(fit.fTest.pValue, e.fPValue as number, 'F p');
      expect(fit.df).toEqual({ model: e.dfModel, residual: e.dfResidual });
      expectClose(fit.logLikelihood, e.logLikelihood as number, 'log-likelihood');
      expectClose(fit.aic, e.aic as number, 'AIC');
      expectClose(fit.bic, e.bic as number, 'BIC');
      expectClose(fit.sigma, e.sigma as number, 'sigma');
      expectClose(fit.durbinWatson, e.durbinWatson as number, 'Durbin–Watson');
      expectAllClose(fit.leverage, e.leverage as number[], 'leverage');
      expectAllClose(fit.cooksDistance, e.cooksDistance as number[], "Cook's distance");
      expectAllClose(fit.vif, e.vif as number[], 'VIF');
      if (e.breuschPagan) {
        const [lm, p] = e.breuschPagan as number[];
        expectClose(fit.breuschPagan!.statistic, lm, 'Breusch–Pagan LM');
        expectPValue(fit.breuschPagan!.pValue, p, 'Breusch–Pagan p');
      } else {
        expect(fit.breuschPagan).toBeUndefined();
      }
      if (e.mallowsCp !== undefined) expectClose(fit.mallowsCp!, e.mallowsCp as number, "Mallows' Cp");
      if (c.newX) {
        const pred = fit.predict(c.newX, { confidence: 0.9 });
        expectAllClose(pred.mean, e.predictMean as number[], 'predicted mean');
        expectIntervals(pred.meanCi, e.predictMeanCi as number[][], 'mean CI');
        expectIntervals(pred.predictionInterval, e.predictInterval as number[][], 'prediction interval');
      }
    });
  }

  it('takes a single predictor as a plain vector', () => {
    const c = fixture.ols[2];
    const fromVector = ols(
      c.X.map((r) => r[0]),
      c.y,
    );
    expectAllClose(
      fromVector.coefficients.map((b) => b.estimate),
      c.expected.coefficients as number[],
      'coefficients',
    );
    expectAllClose(
      fromVector.predict([0, 5, 12], { confidence: 0.9 }).mean,
      c.expected.predictMean as number[],
      'predicted mean',
    );
  });

  it("gives Mallows' Cp = p for the full model itself", () => {
    const c = fixture.ols[0];
    const full = ols(c.X, c.y);
    expectClose(ols(c.X, c.y, { fullModel: full }).mallowsCp!, 4, 'Cp of the full model');
  });

  it('refuses collinear predictors and too few rows', () => {
    const X = [
      [1, 2],
      [2, 4],
      [3, 6],
      [4, 8],
    ];
    expect(() => ols(X, [1, 2, 3, 5])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_SINGULAR' }),
    );
    expect(() => ols([[1], [2]], [1, 2])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_TOO_FEW' }),
    );
    expect(() => ols([[1], [2], [3]], [1, 2])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_LENGTH_MISMATCH' }),
    );
    expect(() => ols([[1], [Number.NaN], [3]], [1, 2, 3])).toThrow(/X\[1\]/);
  });
});

describe('logistic regression agrees with statsmodels', () => {
  for (const c of fixture.logistic) {
    it(c.name, () => {
      const e = c.expected;
      const fit = logisticRegression(c.X, c.y, { intercept: c.intercept });
      expectAllClose(
        fit.coefficients.map((b) => b.estimate),
        e.coefficients as number[],
        'coefficients',
      );
      expectAllClose(
        fit.coefficients.map((b) => b.standardError),
        e.standardErrors as number[],
        'standard errors',
      );
      expectAllClose(
        fit.coefficients.map((b) => b.statistic),
        e.zValues as number[],
        'z',
      );
      expectPValues(
        fit.coefficients.map((b) => b.pValue),
        e.pValues as number[],
        'p',
      );
      expectIntervals(
        fit.coefficients.map((b) => b.ci),
        e.ci as number[][],
        'ci',
      );
      expectClose(fit.logLikelihood, e.logLikelihood as number, 'log-likelihood');
      expectClose(fit.nullLogLikelihood, e.nullLogLikelihood as number, 'null log-likelihood');
      expectClose(fit.aic, e.aic as number, 'AIC');
      expectClose(fit.bic, e.bic as number, 'BIC');
      expectClose(fit.mcFaddenR2, e.mcFaddenR2 as number, 'McFadden R²');
      expectClose(fit.likelihoodRatio.statistic, e.likelihoodRatio as number, 'LR statistic');
    });
  }

  it('refuses perfectly separated data with a clear error', () => {
    const X = [[1], [2], [3], [4], [5], [6]];
    expect(() => logisticRegression(X, [0, 0, 0, 1, 1, 1])).toThrow(
      expect.objectContaining({
        code: 'CROUPIER_ERR_STATS_SEPARATION',
        message: expect.stringMatching(/separated/),
      }),
    );
    expect(() => logisticRegression(X, [1, 1, 1, 1, 1, 1])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_SEPARATION' }),
    );
  });

  it('refuses quasi-completely separated data (a threshold splits all but the tied rows)', () => {
    expect(() => logisticRegression([[1], [2], [3], [3], [4], [5], [6]], [0, 0, 1, 0, 1, 1, 1])).toThrow(
      expect.objectContaining({ code: 'CROUPIER_ERR_STATS_SEPARATION' }),
    );
  });

  it('refuses outcomes other than 0 and 1', () => {
    expect(() => logisticRegression([[1], [2], [3]], [0, 2, 1])).toThrow(/y\[1\]/);
  });

  it('predicts probabilities consistent with the fitted values', () => {
    const c = fixture.logistic[0];
    const fit = logisticRegression(c.X, c.y);
    expectAllClose(fit.predict(c.X.slice(0, 5)), fit.fitted.slice(0, 5), 'predict');
  });
});
