"""Reference values of OLS and logistic regression (statsmodels).
Run: /usr/bin/python3 scripts/stats-reference/regression.py"""
import numpy as np
import statsmodels.api as sm
from statsmodels.stats.diagnostic import het_breuschpagan
from statsmodels.stats.outliers_influence import variance_inflation_factor
from statsmodels.stats.stattools import durbin_watson

from common import write

rng = np.random.default_rng(42)


def ols_case(name, X, y, intercept=True, full=None, new_x=None, confidence=0.95):
    exog = sm.add_constant(X, has_constant='add') if intercept else X
    fit = sm.OLS(y, exog).fit()
    infl = fit.get_influence()
    expected = {
        'coefficients': fit.params, 'standardErrors': fit.bse, 'tValues': fit.tvalues, 'pValues': fit.pvalues,
        'ci': fit.conf_int(1 - confidence), 'rSquared': fit.rsquared, 'adjustedRSquared': fit.rsquared_adj,
        'fStatistic': fit.fvalue, 'fPValue': fit.f_pvalue, 'logLikelihood': fit.llf, 'aic': fit.aic, 'bic': fit.bic,
        'sigma': np.sqrt(fit.mse_resid), 'durbinWatson': durbin_watson(fit.resid),
        'leverage': infl.hat_matrix_diag, 'cooksDistance': infl.cooks_distance[0],
        'vif': [variance_inflation_factor(exog, j) for j in range(1 if intercept else 0, exog.shape[1])],
        'dfModel': fit.df_model, 'dfResidual': fit.df_resid,
    }
    if intercept:
        lm, lm_p, _, _ = het_breuschpagan(fit.resid, exog)
        expected['breuschPagan'] = [lm, lm_p]
    case = {'name': name, 'X': X.tolist(), 'y': y.tolist(), 'intercept': intercept, 'confidence': confidence}
    if full is not None:
        full_fit = sm.OLS(y, sm.add_constant(full, has_constant='add')).fit()
        case['fullMse'] = full_fit.mse_resid
        # Mallows' Cp = SSR_p / σ²_full − n + 2p
        expected['mallowsCp'] = fit.ssr / full_fit.mse_resid - len(y) + 2 * exog.shape[1]
    if new_x is not None:
        ex = sm.add_constant(new_x, has_constant='add') if intercept else new_x
        frame = fit.get_prediction(ex).summary_frame(alpha=0.1)
        case['newX'] = new_x.tolist()
        expected['predictMean'] = frame['mean'].values
        expected['predictMeanCi'] = np.column_stack([frame['mean_ci_lower'], frame['mean_ci_upper']])
        expected['predictInterval'] = np.column_stack([frame['obs_ci_lower'], frame['obs_ci_upper']])
    case['expected'] = expected
    return case


n = 60
X3 = rng.normal(0, 1, (n, 3))
X3[:, 2] = 0.7 * X3[:, 0] + 0.5 * rng.normal(0, 1, n)  # correlated predictors: VIF > 1
y3 = 1.5 + 2.0 * X3[:, 0] - 0.5 * X3[:, 1] + rng.normal(0, 1 + 0.5 * np.abs(X3[:, 0]), n)
Xs = rng.uniform(0, 10, (12, 1))
ys = 3 - 0.8 * Xs[:, 0] + rng.normal(0, 0.5, 12)
Xt = np.arange(30, dtype=float).reshape(-1, 1)
yt = 0.5 * Xt[:, 0] + np.cumsum(rng.normal(0, 1, 30))  # autocorrelated errors
ols_cases = [
    ols_case('three predictors', X3, y3, full=X3, new_x=np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 0.5]])),
    ols_case('two of three predictors (Cp)', X3[:, :2], y3, full=X3),
    ols_case('simple regression, 12 points', Xs, ys, new_x=np.array([[0.0], [5.0], [12.0]])),
    ols_case('trend with autocorrelated errors', Xt, yt),
    ols_case('no intercept', X3[:, :2], y3, intercept=False, new_x=np.array([[1.0, 1.0]])),
]


def logit_case(name, X, y, intercept=True):
    exog = sm.add_constant(X, has_constant='add') if intercept else X
    fit = sm.Logit(y, exog).fit(disp=0, tol=1e-12, maxiter=200)
    return {'name': name, 'X': X.tolist(), 'y': y.tolist(), 'intercept': intercept, 'expected': {
        'coefficients': fit.params, 'standardErrors': fit.bse, 'zValues': fit.tvalues, 'pValues': fit.pvalues,
        'ci': fit.conf_int(0.05), 'logLikelihood': fit.llf, 'nullLogLikelihood': fit.llnull, 'aic': fit.aic, 'bic': fit.bic,
        'mcFaddenR2': fit.prsquared, 'likelihoodRatio': fit.llr,
    }}


m = 300
Xl = rng.normal(0, 1, (m, 2))
yl = (rng.uniform(0, 1, m) < 1 / (1 + np.exp(-(-0.5 + 1.2 * Xl[:, 0] - 0.7 * Xl[:, 1])))).astype(float)
Xr = rng.normal(0, 1, (2000, 1))
yr = (rng.uniform(0, 1, 2000) < 1 / (1 + np.exp(-(-3 + 0.5 * Xr[:, 0])))).astype(float)  # rare events
Xsm = np.array([[0.5], [1.0], [1.5], [2.0], [2.5], [3.0], [3.5], [4.0], [4.5], [5.0]])
ysm = np.array([0, 0, 1, 0, 1, 0, 1, 1, 0, 1], dtype=float)
logit_cases = [
    logit_case('two predictors, 300 rows', Xl, yl),
    logit_case('rare events', Xr, yr),
    logit_case('ten points', Xsm, ysm),
    logit_case('no intercept', Xl, yl, intercept=False),
]

write('regression.json', {'ols': ols_cases, 'logistic': logit_cases})
