"""Reference values of the hypothesis tests (scipy.stats, statsmodels).
Run: /usr/bin/python3 scripts/stats-reference/hypothesis.py

Each case names the croupier function, its arguments and options, and the expected fields of its result.
"""
import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

from common import write

rng = np.random.default_rng(6)
SM_ALT = {'two-sided': 'two-sided', 'less': 'smaller', 'greater': 'larger'}
ALTS = ['two-sided', 'less', 'greater']
cases = []


def case(fn, args, options, expected, name):
    cases.append({'fn': fn, 'name': name, 'args': args, 'options': options, 'expected': expected})


def interval(est, se, conf, alt, dist):
    if alt == 'less':
        return [-np.inf, est + dist.ppf(conf) * se]
    if alt == 'greater':
        return [est - dist.ppf(conf) * se, np.inf]
    h = dist.ppf(1 - (1 - conf) / 2) * se
    return [est - h, est + h]


def pnorm(z, alt):
    return stats.norm.cdf(z) if alt == 'less' else stats.norm.sf(z) if alt == 'greater' else 2 * stats.norm.sf(abs(z))


x30 = rng.normal(0.4, 1.2, 30)
y25 = rng.normal(0.0, 2.0, 25)
tiny = [1.2, 3.4, 2.2]
far = rng.normal(5, 1, 40)  # extreme p-values against 0

# z-test (known sigma)
for x, sigma, mu, alt, name in [(x30, 1.2, 0, 'two-sided', 'x30'), (x30, 1.0, 0.5, 'less', 'x30'),
                                (far, 1.0, 0, 'greater', 'far'), (tiny, 2.0, 1, 'two-sided', 'tiny')]:
    x = np.asarray(x)
    se = sigma / np.sqrt(len(x))
    z = (x.mean() - mu) / se
    case('zTest', [x.tolist()], {'sigma': sigma, 'mu': mu, 'alternative': alt, 'confidence': 0.9},
         {'statistic': z, 'pValue': pnorm(z, alt), 'estimate': x.mean(), 'ci': interval(x.mean(), se, 0.9, alt, stats.norm)},
         f'z-test {name} {alt}')

# one-sample and paired t-tests (scipy's own confidence intervals)
for x, mu, name in [(x30, 0, 'x30'), (tiny, 1, 'tiny'), (far, 0, 'far'), (x30, 0.4, 'x30 at mu')]:
    for alt in ALTS:
        r = stats.ttest_1samp(x, mu, alternative=alt)
        ci = r.confidence_interval(0.95)
        case('tTest', [list(map(float, x))], {'mu': mu, 'alternative': alt},
             {'statistic': r.statistic, 'pValue': r.pvalue, 'df': len(x) - 1, 'estimate': np.mean(x), 'ci': [ci.low, ci.high]},
             f't-test {name} {alt}')
before = rng.normal(10, 2, 20)
after = before + rng.normal(0.5, 1, 20)
for alt in ALTS:
    r = stats.ttest_rel(after, before, alternative=alt)
    ci = r.confidence_interval(0.99)
    case('pairedTTest', [after.tolist(), before.tolist()], {'alternative': alt, 'confidence': 0.99},
         {'statistic': r.statistic, 'pValue': r.pvalue, 'df': 19, 'estimate': np.mean(after - before), 'ci': [ci.low, ci.high]},
         f'paired t-test {alt}')

# two-sample t-tests
for x, y, name in [(x30, y25, 'x30 y25'), (tiny, [0.1, 0.3, -0.2, 0.05], 'tiny'), (far, y25, 'far')]:
    x, y = np.asarray(x), np.asarray(y)
    nx, ny = len(x), len(y)
    vx, vy = x.var(ddof=1) / nx, y.var(ddof=1) / ny
    dfw = (vx + vy) ** 2 / (vx ** 2 / (nx - 1) + vy ** 2 / (ny - 1))
    pooled = ((nx - 1) * x.var(ddof=1) + (ny - 1) * y.var(ddof=1)) / (nx + ny - 2)
    for alt in ALTS:
        d = x.mean() - y.mean()
        r = stats.ttest_ind(x, y, equal_var=False, alternative=alt)
        case('welchTTest', [x.tolist(), y.tolist()], {'alternative': alt},
             {'statistic': r.statistic, 'pValue': r.pvalue, 'df': dfw, 'estimate': d,
              'ci': interval(d, np.sqrt(vx + vy), 0.95, alt, stats.t(dfw))}, f'Welch {name} {alt}')
        r = stats.ttest_ind(x, y, equal_var=True, alternative=alt)
        se = np.sqrt(pooled * (1 / nx + 1 / ny))
        case('studentTTest', [x.tolist(), y.tolist()], {'alternative': alt},
             {'statistic': r.statistic, 'pValue': r.pvalue, 'df': nx + ny - 2, 'estimate': d,
              'ci': interval(d, se, 0.95, alt, stats.t(nx + ny - 2))}, f'Student {name} {alt}')

# proportion z-tests
for count, nobs, p0 in [(45, 120, 0.5), (3, 10, 0.1), (9000, 10000, 0.88)]:
    for alt in ALTS:
        z, p = proportions_ztest(count, nobs, value=p0, alternative=SM_ALT[alt], prop_var=p0)
        phat = count / nobs
        if alt == 'two-sided':
            ci = list(proportion_confint(count, nobs, alpha=0.05, method='normal'))
        else:
            ci = interval(phat, np.sqrt(phat * (1 - phat) / nobs), 0.95, alt, stats.norm)
        case('proportionZTest', [count, nobs], {'p0': p0, 'alternative': alt},
             {'statistic': z, 'pValue': p, 'estimate': phat, 'ci': ci}, f'one-proportion {count}/{nobs} {alt}')
        # continuity-corrected (R's prop.test): |p̂ − p0| shrunk by min(½/n, |p̂ − p0|)
        diff = phat - p0
        zc = np.sign(diff) * (abs(diff) - min(0.5 / nobs, abs(diff))) / np.sqrt(p0 * (1 - p0) / nobs)
        case('proportionZTest', [count, nobs], {'p0': p0, 'alternative': alt, 'continuityCorrection': True},
             {'statistic': zc, 'pValue': pnorm(zc, alt)}, f'one-proportion {count}/{nobs} {alt} corrected')
for (x1, n1), (x2, n2) in [((120, 1000), (95, 1000)), ((15, 40), (4, 35)), ((5210, 100000), (5000, 100000)),
                           ((300, 1000), (100, 1000))]:
    for alt in ALTS:
        z, p = proportions_ztest([x1, x2], [n1, n2], alternative=SM_ALT[alt])
        d = x1 / n1 - x2 / n2
        if alt == 'two-sided':
            ci = list(confint_proportions_2indep(x1, n1, x2, n2, method='wald', compare='diff', alpha=0.05))
        else:
            ci = interval(d, np.sqrt(x1 / n1 * (1 - x1 / n1) / n1 + x2 / n2 * (1 - x2 / n2) / n2), 0.95, alt, stats.norm)
        case('proportionZTest', [[x1, x2], [n1, n2]], {'alternative': alt},
             {'statistic': z, 'pValue': p, 'estimate': d, 'ci': ci}, f'two-proportion {x1}/{n1} vs {x2}/{n2} {alt}')
        # Yates-corrected; two-sided it equals the corrected chi-squared test of the 2×2 table
        pp = (x1 + x2) / (n1 + n2)
        zc = np.sign(d) * (abs(d) - min(0.5 * (1 / n1 + 1 / n2), abs(d))) / np.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n2))
        if alt == 'two-sided':
            chi = stats.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=True)
            assert np.isclose(chi[1], pnorm(zc, alt), rtol=1e-10), (chi[1], pnorm(zc, alt))
        case('proportionZTest', [[x1, x2], [n1, n2]], {'alternative': alt, 'continuityCorrection': True},
             {'statistic': zc, 'pValue': pnorm(zc, alt)}, f'two-proportion {x1}/{n1} vs {x2}/{n2} {alt} corrected')

# F-test of variances (R's var.test)
for x, y, name in [(x30, y25, 'x30 y25'), (tiny, [0.1, 0.3, -0.2, 0.05], 'tiny')]:
    x, y = np.asarray(x), np.asarray(y)
    est = x.var(ddof=1) / y.var(ddof=1)
    d = stats.f(len(x) - 1, len(y) - 1)
    for alt in ALTS:
        p = d.cdf(est) if alt == 'less' else d.sf(est) if alt == 'greater' else 2 * min(d.cdf(est), d.sf(est))
        ci = ([0, est / d.ppf(0.05)] if alt == 'less' else [est / d.ppf(0.95), np.inf] if alt == 'greater'
              else [est / d.ppf(0.975), est / d.ppf(0.025)])
        case('fTestVariances', [x.tolist(), y.tolist()], {'alternative': alt},
             {'statistic': est, 'pValue': p, 'df': [len(x) - 1, len(y) - 1], 'estimate': est, 'ci': ci}, f'F-test {name} {alt}')

# Levene / Brown–Forsythe, ANOVA, Kruskal–Wallis
g1, g2, g3 = rng.normal(0, 1, 15), rng.normal(0.5, 2, 20), rng.normal(1, 1, 12)
tied = [[1, 2, 2, 3, 5], [2, 3, 3, 4, 6, 6], [5, 6, 7, 7, 8]]
for groups, name in [([g1, g2, g3], 'normal groups'), (tied, 'tied groups')]:
    gl = [list(map(float, g)) for g in groups]
    for center in ['mean', 'median']:
        r = stats.levene(*groups, center=center)
        case('leveneTest', [gl], {'center': center}, {'statistic': r.statistic, 'pValue': r.pvalue}, f'Levene {center} {name}')
    r = stats.f_oneway(*groups)
    allv = np.concatenate([np.asarray(g, float) for g in groups])
    ssb = sum(len(g) * (np.mean(g) - allv.mean()) ** 2 for g in groups)
    sst = ((allv - allv.mean()) ** 2).sum()
    case('anovaOneWay', [gl], {}, {'statistic': r.statistic, 'pValue': r.pvalue,
                                   'df': [len(groups) - 1, len(allv) - len(groups)], 'etaSquared': ssb / sst}, f'ANOVA {name}')
    r = stats.kruskal(*groups)
    case('kruskalWallis', [gl], {}, {'statistic': r.statistic, 'pValue': r.pvalue, 'df': len(groups) - 1}, f'Kruskal {name}')
far_groups = [rng.normal(0, 1, 60), rng.normal(3, 1, 60)]
r = stats.f_oneway(*far_groups)
case('anovaOneWay', [[g.tolist() for g in far_groups]], {}, {'statistic': r.statistic, 'pValue': r.pvalue}, 'ANOVA extreme')

# chi-squared tests
for table, yates in [([[20, 15], [30, 35]], False), ([[20, 15], [30, 35]], True), ([[3, 9], [8, 2]], True),
                     ([[12, 7, 30], [5, 18, 22], [9, 9, 9]], False), ([[500, 100], [100, 500]], False)]:
    chi, p, dof, exp = stats.chi2_contingency(table, correction=yates)
    case('chiSquaredIndependence', [table], {'yates': yates},
         {'statistic': chi, 'pValue': p, 'df': dof, 'expected': exp}, f'independence {table} yates={yates}')
obs = [18, 22, 39, 21]
for options in [{}, {'probabilities': [0.2, 0.2, 0.4, 0.2]}, {'expected': [25, 25, 25, 25], 'ddof': 1},
                {'probabilities': [0.1, 0.1, 0.1, 0.7]}]:
    f_exp = None
    if 'probabilities' in options:
        f_exp = np.asarray(options['probabilities']) * sum(obs)
    elif 'expected' in options:
        f_exp = options['expected']
    r = stats.chisquare(obs, f_exp, ddof=options.get('ddof', 0))
    case('chiSquaredGoodnessOfFit', [obs], options,
         {'statistic': r.statistic, 'pValue': r.pvalue, 'df': 3 - options.get('ddof', 0)}, f'goodness of fit {options}')

# Mann–Whitney U
small_x, small_y = [19, 22, 16, 29, 24], [20, 11, 17, 12]
ties_x, ties_y = [1, 2, 2, 3, 4, 4, 4, 5, 6, 7], [3, 3, 4, 5, 5, 6, 7, 8, 8, 9, 9]
mx, my = rng.normal(0, 1, 40), rng.normal(0.6, 1, 35)
for x, y, method, name in [(small_x, small_y, 'exact', 'small exact'), (small_x, small_y, 'asymptotic', 'small approx'),
                           (ties_x, ties_y, 'asymptotic', 'ties'), (mx.tolist(), my.tolist(), 'asymptotic', 'normal'),
                           ([1, 5, 9], rng.normal(4, 3, 30).tolist(), 'exact', 'n=3 vs 30')]:
    for alt in ALTS:
        r = stats.mannwhitneyu(x, y, alternative=alt, method=method, use_continuity=True)
        case('mannWhitneyU', [x, y], {'alternative': alt, 'method': method},
             {'statistic': r.statistic, 'pValue': r.pvalue}, f'Mann–Whitney {name} {alt}')
r = stats.mannwhitneyu(ties_x, ties_y, use_continuity=False, method='asymptotic')
case('mannWhitneyU', [ties_x, ties_y], {'continuityCorrection': False}, {'statistic': r.statistic, 'pValue': r.pvalue},
     'Mann–Whitney ties without continuity correction')

# Wilcoxon signed-rank
d_small = [0.8, -1.3, 2.1, 0.4, 1.7, 2.9, -0.2, 1.1, 3.3, 0.6]
d_ties = [1, 2, 2, -3, 4, 4, 5, -1, 6, 6, 6, 0, 7, 3]
d_big = rng.normal(0.3, 1, 80)
for d, mode, name in [(d_small, 'exact', 'small exact'), (d_ties, 'approx', 'ties and a zero'), (d_big.tolist(), 'approx', 'n=80')]:
    for alt in ALTS:
        for correction in [False, True]:
            if mode == 'exact' and correction:
                continue
            r = stats.wilcoxon(d, alternative=alt, mode=mode, correction=correction)
            case('wilcoxonSignedRank', [d], {'alternative': alt, 'continuityCorrection': correction},
                 {'statistic': r.statistic, 'pValue': r.pvalue}, f'Wilcoxon {name} {alt} cc={correction}')
for zm in ['pratt', 'zsplit']:
    r = stats.wilcoxon(d_ties, zero_method=zm, mode='approx')
    case('wilcoxonSignedRank', [d_ties], {'zeroMethod': zm}, {'statistic': r.statistic, 'pValue': r.pvalue}, f'Wilcoxon zeros {zm}')
r = stats.wilcoxon(after, before)
case('wilcoxonSignedRank', [after.tolist(), before.tolist()], {}, {'statistic': r.statistic, 'pValue': r.pvalue}, 'Wilcoxon paired')

# D'Agostino–Pearson
for x, name in [(rng.normal(0, 1, 20), 'normal 20'), (rng.exponential(1, 200), 'exponential 200'),
                (rng.uniform(0, 1, 500), 'uniform 500'), (rng.normal(0, 1, 9), 'normal 9')]:
    r = stats.normaltest(x)
    case('normalityTest', [x.tolist()], {}, {'statistic': r.statistic, 'pValue': r.pvalue,
                                              'skewnessZ': stats.skewtest(x).statistic, 'kurtosisZ': stats.kurtosistest(x).statistic},
         f'normality {name}')

# multiple comparisons
pv = [0.01, 0.04, 0.03, 0.005, 0.5, 0.2, 0.04]
for method, sm in [('bonferroni', 'bonferroni'), ('holm', 'holm'), ('bh', 'fdr_bh')]:
    case('adjustPValues', [pv, method], None, {'values': multipletests(pv, method=sm)[1]}, f'adjust {method}')
pg = {'a': g1.tolist(), 'b': g2.tolist(), 'c': g3.tolist()}
raw = [stats.ttest_ind(pg[a], pg[b], equal_var=False).pvalue for a, b in [('a', 'b'), ('a', 'c'), ('b', 'c')]]
case('pairwiseTests', [pg], {'test': 'welch', 'correction': 'holm'},
     {'pValues': raw, 'adjusted': multipletests(raw, method='holm')[1]}, 'pairwise Welch with Holm')
raw = [stats.mannwhitneyu(pg[a], pg[b]).pvalue for a, b in [('a', 'b'), ('a', 'c'), ('b', 'c')]]
case('pairwiseTests', [pg], {'test': 'mannWhitney', 'correction': 'bh'},
     {'pValues': raw, 'adjusted': multipletests(raw, method='fdr_bh')[1]}, 'pairwise Mann–Whitney with BH')

write('hypothesis.json', cases)
