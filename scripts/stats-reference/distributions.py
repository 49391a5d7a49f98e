"""Reference values of the distribution functions (scipy.stats). Run: /usr/bin/python3 scripts/stats-reference/distributions.py"""
import mpmath
import numpy as np
from scipy import stats

from common import write

PROBS = [1e-12, 1e-6, 0.001, 0.025, 0.3, 0.5, 0.7, 0.975, 0.999, 1 - 1e-6]

CONTINUOUS = [
    ('normal', {'mean': 0, 'sd': 1}, stats.norm()),
    ('normal', {'mean': 3.5, 'sd': 0.2}, stats.norm(3.5, 0.2)),
    ('uniform', {'min': -2, 'max': 5}, stats.uniform(-2, 7)),
    ('exponential', {'rate': 2.5}, stats.expon(scale=1 / 2.5)),
    ('gamma', {'shape': 0.3, 'scale': 2}, stats.gamma(0.3, scale=2)),
    ('gamma', {'shape': 4.2}, stats.gamma(4.2)),
    ('gamma', {'shape': 250, 'scale': 0.1}, stats.gamma(250, scale=0.1)),
    ('beta', {'alpha': 0.5, 'beta': 0.5}, stats.beta(0.5, 0.5)),
    ('beta', {'alpha': 2, 'beta': 5}, stats.beta(2, 5)),
    ('beta', {'alpha': 120.5, 'beta': 3000}, stats.beta(120.5, 3000)),
    ('studentT', {'df': 1}, stats.t(1)),
    ('studentT', {'df': 3.7}, stats.t(3.7)),
    ('studentT', {'df': 30}, stats.t(30)),
    ('studentT', {'df': 2000}, stats.t(2000)),
    ('chiSquared', {'df': 1}, stats.chi2(1)),
    ('chiSquared', {'df': 7}, stats.chi2(7)),
    ('chiSquared', {'df': 500}, stats.chi2(500)),
    ('fisherF', {'df1': 3, 'df2': 17}, stats.f(3, 17)),
    ('fisherF', {'df1': 1, 'df2': 4.5}, stats.f(1, 4.5)),
    ('fisherF', {'df1': 40, 'df2': 200}, stats.f(40, 200)),
    # extreme parameters
    ('studentT', {'df': 1e6}, stats.t(1e6)),
    ('studentT', {'df': 0.5}, stats.t(0.5)),
    ('chiSquared', {'df': 1e5}, stats.chi2(1e5)),
    ('chiSquared', {'df': 0.3}, stats.chi2(0.3)),
    ('gamma', {'shape': 1e-3}, stats.gamma(1e-3)),
    ('beta', {'alpha': 1e5, 'beta': 1e5}, stats.beta(1e5, 1e5)),
    ('beta', {'alpha': 0.01, 'beta': 50}, stats.beta(0.01, 50)),
    ('fisherF', {'df1': 1e4, 'df2': 1e4}, stats.f(1e4, 1e4)),
]

DISCRETE = [
    ('bernoulli', {'p': 0.3}, stats.bernoulli(0.3)),
    ('binomial', {'n': 20, 'p': 0.35}, stats.binom(20, 0.35)),
    ('binomial', {'n': 10000, 'p': 0.01}, stats.binom(10000, 0.01)),
    ('geometric', {'p': 0.2}, stats.geom(0.2)),
    ('geometric', {'p': 0.001}, stats.geom(0.001)),
    ('poisson', {'lambda': 0.7}, stats.poisson(0.7)),
    ('poisson', {'lambda': 42}, stats.poisson(42)),
    ('poisson', {'lambda': 5000}, stats.poisson(5000)),
    # extreme parameters
    ('binomial', {'n': 10000000, 'p': 0.5}, stats.binom(10000000, 0.5)),
    ('binomial', {'n': 50, 'p': 1e-6}, stats.binom(50, 1e-6)),
    ('poisson', {'lambda': 1e6}, stats.poisson(1e6)),
    ('poisson', {'lambda': 1e-4}, stats.poisson(1e-4)),
]

mpmath.mp.dps = 40


def f_quantile(p, d1, d2):
    """scipy 1.10's f.ppf (cephes fdtri) loses ~1e-5 relative accuracy far in the lower tail; refine it to the
    exact root of the regularized incomplete beta with mpmath."""
    x0 = mpmath.mpf(float(stats.f.ppf(p, d1, d2)))
    if min(d1, d2) >= 1000:
        return float(x0)  # mpmath's hypergeometric series do not converge there; fdtri is accurate near 1

    def cdf(x):
        u = d1 * x
        return mpmath.betainc(mpmath.mpf(d1) / 2, mpmath.mpf(d2) / 2, 0, u / (u + d2), regularized=True)

    if p > 0.5:
        return float(mpmath.findroot(lambda x: (1 - cdf(x)) / (1 - p) - 1, (x0 * 0.9, x0 * 1.1), solver='illinois', tol=1e-28, verify=False))
    return float(mpmath.findroot(lambda x: cdf(x) / p - 1, (x0 * 0.9, x0 * 1.1), solver='illinois', tol=1e-28, verify=False))


cases = []
for name, params, d in CONTINUOUS:
    xs = sorted(set(float(d.ppf(p)) for p in [1e-9, 0.01, 0.2, 0.5, 0.8, 0.99, 1 - 1e-9]))
    cases.append({
        'dist': name, 'params': params, 'kind': 'continuous',
        'x': xs, 'pdf': d.pdf(xs), 'cdf': d.cdf(xs), 'sf': d.sf(xs),
        'p': PROBS,
        'quantile': [f_quantile(p, params['df1'], params['df2']) for p in PROBS] if name == 'fisherF' else d.ppf(PROBS),
        'mean': d.mean(), 'variance': d.var(),
    })
for name, params, d in DISCRETE:
    lo, hi = d.ppf(1e-9), d.ppf(1 - 1e-9)
    ks = sorted(set(int(k) for k in np.linspace(lo, hi, 9)))
    cases.append({
        'dist': name, 'params': params, 'kind': 'discrete',
        'x': ks, 'pmf': d.pmf(ks), 'cdf': d.cdf(ks), 'sf': d.sf(ks),
        'p': PROBS, 'quantile': d.ppf(PROBS),
        'mean': d.mean(), 'variance': d.var(),
    })
write('distributions.json', cases)
