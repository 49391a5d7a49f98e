"""Reference values of the power analysis (statsmodels) and of the noncentral t distribution (scipy).
Run: /usr/bin/python3 scripts/stats-reference/power.py"""
from scipy import optimize, stats
from statsmodels.stats.power import TTestIndPower
from statsmodels.stats.proportion import power_proportions_2indep

from common import write

SM_ALT = {'two-sided': 'two-sided', 'less': 'smaller', 'greater': 'larger'}


def prop_power(p1, p2, n1, ratio, alpha, alt):
    return float(power_proportions_2indep(p1 - p2, p2, n1, ratio=ratio, alpha=alpha, alternative=SM_ALT[alt], return_results=False))


cases = {'noncentralT': [], 'proportions': [], 'means': []}
for t, df, nc in [(2.0, 10, 1.5), (-1.3, 4.5, 0.7), (1.96, 200, 3.2), (0.5, 30, -2.0), (3.0, 58, 0.0), (-2.0, 98, -3.5),
                  (2.6, 1000, 20.0)]:
    cases['noncentralT'].append({'t': t, 'df': df, 'delta': nc, 'cdf': stats.nct.cdf(t, df, nc), 'sf': stats.nct.sf(t, df, nc)})

for p1, p2, n1, ratio, alpha, alt in [(0.12, 0.10, 2000, 1, 0.05, 'two-sided'), (0.12, 0.10, 2000, 2, 0.05, 'greater'),
                                      (0.05, 0.06, 5000, 1, 0.01, 'less'), (0.5, 0.4, 150, 0.5, 0.1, 'two-sided'),
                                      (0.031, 0.03, 100000, 1, 0.05, 'two-sided')]:
    power = prop_power(p1, p2, n1, ratio, alpha, alt)
    n_exact = optimize.brentq(lambda n: prop_power(p1, p2, n, ratio, alpha, alt) - 0.8, 1, 1e9, xtol=1e-12, rtol=1e-14)
    sign = -1 if alt == 'less' else 1
    room = p2 if alt == 'less' else 1 - p2
    mde = optimize.brentq(lambda m: prop_power(p2 + sign * m, p2, n1, ratio, alpha, alt) - 0.8, 1e-12, room * (1 - 1e-12),
                          xtol=1e-15, rtol=1e-14)
    cases['proportions'].append({'p1': p1, 'p2': p2, 'n1': n1, 'ratio': ratio, 'alpha': alpha, 'alternative': alt,
                                 'power': power, 'n1Exact': n_exact, 'mde': sign * mde})

analysis = TTestIndPower()
for d, n1, ratio, alpha, alt in [(0.5, 64, 1, 0.05, 'two-sided'), (0.2, 300, 1.5, 0.05, 'greater'), (-0.3, 120, 1, 0.01, 'less'),
                                 (0.8, 10, 1, 0.05, 'two-sided'), (1.5, 5, 2, 0.1, 'two-sided')]:
    power = analysis.power(d, n1, alpha, ratio=ratio, alternative=SM_ALT[alt])
    n_exact = analysis.solve_power(effect_size=d, nobs1=None, alpha=alpha, power=0.8, ratio=ratio, alternative=SM_ALT[alt])
    # solve_power's effect-size solver stops ~1e-5 short; solve statsmodels' own power function tightly instead
    sign = -1 if alt == 'less' else 1
    mde = sign * optimize.brentq(lambda m: analysis.power(sign * m, n1, alpha, ratio=ratio, alternative=SM_ALT[alt]) - 0.8,
                                 1e-9, 50, xtol=1e-15, rtol=1e-14)
    cases['means'].append({'effectSize': d, 'n1': n1, 'ratio': ratio, 'alpha': alpha, 'alternative': alt,
                           'power': power, 'n1Exact': n_exact, 'mde': mde})

write('power.json', cases)
