"""Reference values of the descriptive statistics and correlations (numpy, scipy.stats).
Run: /usr/bin/python3 scripts/stats-reference/descriptive.py"""
import numpy as np
from scipy import stats

from common import write

rng = np.random.default_rng(20261130)
SAMPLES = {
    'small': [3.1, -2.0, 7.25, 0.5, 3.1],
    'ties': [1, 2, 2, 3, 3, 4, 5, 5, 5, 9, 9, 9],
    'normal50': rng.normal(10, 2, 50).tolist(),
    'skewed200': rng.lognormal(0, 1, 200).tolist(),
    'offset': (1e9 + rng.normal(0, 1, 30)).tolist(),
}
QS = [0, 0.1, 0.25, 0.5, 0.9, 0.99, 1]

cases = []
for name, x in SAMPLES.items():
    a = np.array(x, dtype=float)
    m = stats.mode(a, keepdims=False)
    values, counts = np.unique(a, return_counts=True)
    cases.append({
        'name': name, 'x': x,
        'mean': a.mean(), 'median': np.median(a), 'modes': values[counts == counts.max()].tolist(),
        'variance': a.var(ddof=1), 'variancePopulation': a.var(ddof=0), 'std': a.std(ddof=1),
        'q': QS, 'quantile': np.quantile(a, QS),
    })

PAIRS = []
x = rng.normal(0, 1, 40)
PAIRS.append(('correlated40', x, 0.6 * x + rng.normal(0, 1, 40)))
PAIRS.append(('weak12', rng.normal(0, 1, 12), rng.normal(0, 1, 12)))
x = rng.integers(0, 5, 30).astype(float)
PAIRS.append(('tied30', x, x + rng.integers(0, 3, 30)))
x = rng.normal(0, 1, 500)
PAIRS.append(('strong500', x, 0.9 * x + 0.1 * rng.normal(0, 1, 500)))

pairs = []
for name, x, y in PAIRS:
    entry = {'name': name, 'x': x, 'y': y, 'covariance': np.cov(x, y, ddof=1)[0, 1],
             'covariancePopulation': np.cov(x, y, ddof=0)[0, 1]}
    for alt in ['two-sided', 'less', 'greater']:
        p = stats.pearsonr(x, y, alternative=alt)
        ci = p.confidence_interval(0.9)
        s = stats.spearmanr(x, y, alternative=alt)
        entry[alt] = {'pearson': [p.statistic, p.pvalue], 'pearsonCi90': [ci.low, ci.high],
                      'spearman': [s.correlation, s.pvalue]}
    pairs.append(entry)

write('descriptive.json', {'samples': cases, 'pairs': pairs})
