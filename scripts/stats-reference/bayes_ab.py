"""Reference values of the Bayesian A/B analysis (Beta-binomial posteriors) by scipy's adaptive quadrature
and root finding, cross-checked against Evan Miller's closed form of P(p_B > p_A) for integer shapes.
Run: /usr/bin/python3 scripts/stats-reference/bayes_ab.py"""
import numpy as np
from scipy import integrate, optimize, special, stats

from common import write

SPREAD = [0, 1, 2, 4, 8, 16, 32, 64]


def quad(f, lo, hi, points):
    cuts = sorted({lo, hi, *[p for p in points if lo < p < hi]})
    total = 0.0
    for a, b in zip(cuts[:-1], cuts[1:]):
        total += integrate.quad(f, a, b, epsabs=1e-17, epsrel=1e-13, limit=500)[0]
    return total


def support(dists):
    lo = max(0.0, min(d.mean() - 64 * d.std() for d in dists))
    hi = min(1.0, max(d.mean() + 64 * d.std() for d in dists))
    return lo, hi


def cuts_of(dists):
    return [d.mean() + s * sign * d.std() for d in dists for s in SPREAD for sign in (-1, 1)]


def miller(a1, b1, a2, b2):
    """P(X2 > X1) for X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2), integer a2."""
    i = np.arange(int(a2))
    terms = special.betaln(a1 + i, b1 + b2) - np.log(b2 + i) - special.betaln(1 + i, b2) - special.betaln(a1, b1)
    return float(np.exp(terms).sum())


def lift_cdf(dj, dc, t):
    scale = 1 + t
    lo, hi = support([dc])
    points = cuts_of([dc]) + [(dj.mean() + s * sign * dj.std()) / scale for s in SPREAD for sign in (-1, 1)]
    return quad(lambda x: dc.pdf(x) * dj.cdf(min(1.0, scale * x)), lo, hi, points)


def lift_quantile(dj, dc, q):
    lo, hi = -1 + 1e-12, 1.0
    while lift_cdf(dj, dc, hi) < q:
        hi = 2 * hi + 1
    return optimize.brentq(lambda t: lift_cdf(dj, dc, t) - q, lo, hi, xtol=1e-14, rtol=1e-13)


def case(name, variants, prior=(1, 1), confidence=0.95, control=0):
    dists = [stats.beta(prior[0] + s, prior[1] + n - s) for s, n in variants]
    lo, hi = support(dists)
    points = cuts_of(dists)
    out = {'name': name, 'variants': [{'successes': s, 'trials': n} for s, n in variants],
           'prior': {'alpha': prior[0], 'beta': prior[1]}, 'confidence': confidence, 'control': control,
           'posteriors': [], 'lifts': []}
    tail = (1 - confidence) / 2
    for j, d in enumerate(dists):
        others = [e for m, e in enumerate(dists) if m != j]
        best = quad(lambda x: d.pdf(x) * np.prod([e.cdf(x) for e in others]), lo, hi, points)
        loss = quad(lambda t: d.cdf(t) * -np.expm1(np.sum([e.logcdf(t) for e in others])), lo, hi, points)
        a, b = d.args
        out['posteriors'].append({'alpha': a, 'beta': b, 'mean': d.mean(), 'ci': [d.ppf(tail), d.isf(tail)],
                                  'probabilityBest': best, 'expectedLoss': loss})
    dc = dists[control]
    ac, bc = dc.args
    for j, dj in enumerate(dists):
        if j == control:
            continue
        above = quad(lambda x: dj.pdf(x) * dc.cdf(x), lo, hi, points)
        if float(dj.args[0]).is_integer():
            check = miller(ac, bc, dj.args[0], dj.args[1])
            assert abs(check - above) <= 1e-9 * max(above, 1e-300), (name, check, above)
        out['lifts'].append({
            'index': j,
            'mean': dj.mean() * (ac + bc - 1) / (ac - 1) - 1 if ac > 1 else float('inf'),
            'median': lift_quantile(dj, dc, 0.5),
            'ci': [lift_quantile(dj, dc, tail), lift_quantile(dj, dc, 1 - tail)],
            'probabilityPositive': above,
        })
    return out


write('bayes-ab.json', [
    case('twoVariants', [(100, 1000), (120, 1000)]),
    case('jeffreysZeroSuccesses', [(0, 10), (0, 3)], prior=(0.5, 0.5), confidence=0.9),
    case('clearWinner', [(10, 1000), (30, 1000)]),
    case('threeLarge', [(1000, 100000), (1100, 100000), (1050, 100000)]),
    case('fourSmallControl1', [(3, 20), (5, 20), (2, 25), (7, 30)], prior=(2, 8), confidence=0.8, control=1),
])
