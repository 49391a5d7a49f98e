"""Reference values of the experiment checks: sample ratio mismatch (scipy.stats.chisquare), delta-method
relative lift and CUPED + Welch (closed forms, scipy.stats.ttest_ind), and the mSPRT of two proportions
(its closed form). Run: /usr/bin/python3 scripts/stats-reference/experiment.py"""
import numpy as np
from scipy import stats

from common import write

rng = np.random.default_rng(20261201)

srm = []
for counts, shares in [([5000, 5100], None), ([50123, 49877], [1, 1]), ([1000, 2150, 950], [1, 2, 1]),
                       ([4900, 5300, 5100, 4700], [0.25, 0.25, 0.25, 0.25])]:
    c = np.array(counts, dtype=float)
    p = np.ones(len(c)) / len(c) if shares is None else np.array(shares, dtype=float) / np.sum(shares)
    res = stats.chisquare(c, c.sum() * p)
    srm.append({'counts': counts, 'expectedShares': shares, 'statistic': res.statistic, 'pValue': res.pvalue,
                'expected': c.sum() * p})

lifts = []
for (nt, mt, vt), (nc, mc, vc), conf in [((1000, 0.12, 0.12 * 0.88), (1000, 0.10, 0.09), 0.95),
                                          ((250, 31.5, 400.0), (240, 28.0, 380.0), 0.9),
                                          ((50000, 0.0103, 0.0103 * 0.9897), (50000, 0.0100, 0.0099), 0.99)]:
    est = mt / mc - 1
    se = np.sqrt(vt / (nt * mc ** 2) + mt ** 2 * vc / (nc * mc ** 4))
    z = stats.norm.ppf(0.5 + conf / 2)
    lifts.append({'treatment': {'n': nt, 'mean': mt, 'variance': vt}, 'control': {'n': nc, 'mean': mc, 'variance': vc},
                  'confidence': conf, 'estimate': est, 'se': se, 'ci': [est - z * se, est + z * se]})

cuped = []
for name, n_t, n_c, rho in [('correlated', 300, 280, 0.8), ('weak', 60, 75, 0.2)]:
    xt = rng.normal(10, 3, n_t)
    xc = rng.normal(10, 3, n_c)
    yt = 0.5 + 10 + rho * (xt - 10) + np.sqrt(1 - rho ** 2) * rng.normal(0, 3, n_t)
    yc = 10 + rho * (xc - 10) + np.sqrt(1 - rho ** 2) * rng.normal(0, 3, n_c)
    x = np.concatenate([xt, xc])
    y = np.concatenate([yt, yc])
    theta = np.cov(x, y, ddof=1)[0, 1] / np.var(x, ddof=1)
    adj = y - theta * (x - x.mean())
    reduction = 1 - np.var(adj, ddof=1) / np.var(y, ddof=1)
    at = yt - theta * (xt - x.mean())
    ac = yc - theta * (xc - x.mean())
    res = stats.ttest_ind(at, ac, equal_var=False)
    vt, vc = at.var(ddof=1) / n_t, ac.var(ddof=1) / n_c
    df = (vt + vc) ** 2 / (vt ** 2 / (n_t - 1) + vc ** 2 / (n_c - 1))
    diff = at.mean() - ac.mean()
    half = stats.t.ppf(0.975, df) * np.sqrt(vt + vc)
    cuped.append({'name': name, 'treatment': {'y': yt, 'x': xt}, 'control': {'y': yc, 'x': xc}, 'theta': theta,
                  'varianceReduction': reduction, 'statistic': res.statistic, 'pValue': res.pvalue, 'df': df,
                  'estimate': diff, 'ci': [diff - half, diff + half]})


def msprt(t, c, tau, alpha):
    pt, pc = t[0] / t[1], c[0] / c[1]
    v = pt * (1 - pt) / t[1] + pc * (1 - pc) / c[1]
    d = pt - pc
    tau2 = tau * tau
    log_lambda = 0.5 * np.log(v / (v + tau2)) + tau2 * d * d / (2 * v * (v + tau2))
    radius = np.sqrt(2 * v * (v + tau2) / tau2 * (np.log(1 / alpha) + 0.5 * np.log((v + tau2) / v)))
    return {'treatment': {'successes': t[0], 'trials': t[1]}, 'control': {'successes': c[0], 'trials': c[1]},
            'tau': tau, 'alpha': alpha, 'statistic': np.exp(log_lambda), 'pValue': min(1.0, np.exp(-log_lambda)),
            'estimate': d, 'ci': [d - radius, d + radius]}


sequential = [msprt((120, 1000), (100, 1000), 0.01, 0.05), msprt((1300, 10000), (1000, 10000), 0.01, 0.05),
              msprt((5200, 50000), (5000, 50000), 0.005, 0.1), msprt((30, 200), (31, 210), 0.05, 0.05)]

write('experiment.json', {'srm': srm, 'lift': lifts, 'cuped': cuped, 'msprt': sequential})
