"""Reference values of the off-policy estimators (IPS, SNIPS, DR) and the offline metrics, from their
definitions in numpy and scipy (no scikit-learn): ROC AUC from scipy's mid-ranks, the Wilson interval from
statsmodels. Run: /usr/bin/python3 scripts/stats-reference/offline.py"""
import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from common import write

rng = np.random.default_rng(20261130)


def wald(terms, w, conf):
    n = len(terms)
    est = terms.mean()
    se = terms.std(ddof=1) / np.sqrt(n)
    z = stats.norm.ppf(0.5 + conf / 2)
    return {'estimate': est, 'se': se, 'ci': [est - z * se, est + z * se],
            'effectiveSampleSize': w.sum() ** 2 / (w ** 2).sum(), 'meanWeight': w.mean()}


def off_policy_case(name, n, conf=0.95, max_weight=None, with_target_model=True):
    mu = rng.uniform(0.05, 1.0, n)
    pi = rng.uniform(0.0, 1.0, n)
    pi[rng.uniform(size=n) < 0.2] = 0.0
    reward = (rng.uniform(size=n) < 0.3).astype(float)
    model = np.clip(0.3 + rng.normal(0, 0.1, n), 0, 1)
    target_model = np.clip(0.32 + rng.normal(0, 0.1, n), 0, 1)
    w = pi / mu
    if max_weight is not None:
        w = np.minimum(w, max_weight)
    ips = wald(w * reward, w, conf)
    v = (w * reward).sum() / w.sum()
    se = np.sqrt(((w * (reward - v)) ** 2).sum()) / w.sum()
    z = stats.norm.ppf(0.5 + conf / 2)
    snips = {'estimate': v, 'se': se, 'ci': [v - z * se, v + z * se],
             'effectiveSampleSize': w.sum() ** 2 / (w ** 2).sum(), 'meanWeight': w.mean()}
    direct = target_model if with_target_model else model
    dr = wald(direct + w * (reward - model), w, conf)
    case = {'name': name, 'confidence': conf, 'reward': reward, 'propensity': mu, 'targetProbability': pi,
            'modelEstimate': model, 'ips': ips, 'snips': snips, 'doublyRobust': dr}
    if with_target_model:
        case['targetModelEstimate'] = target_model
    if max_weight is not None:
        case['maxWeight'] = max_weight
    return case


off_policy = [
    off_policy_case('logged200', 200),
    off_policy_case('clipped300', 300, conf=0.9, max_weight=4.0),
    off_policy_case('baselineOnly50', 50, conf=0.99, with_target_model=False),
]
write('off-policy.json', off_policy)


def classification_case(name, labels, scores):
    labels = np.asarray(labels, dtype=float)
    scores = np.asarray(scores, dtype=float)
    p = np.clip(scores, 1e-15, 1 - 1e-15)
    log_loss = -np.mean(labels * np.log(p) + (1 - labels) * np.log1p(-p))
    ranks = stats.rankdata(scores)
    n1 = labels.sum()
    n0 = len(labels) - n1
    auc = (ranks[labels == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
    out = {'name': name, 'labels': labels, 'scores': scores, 'logLoss': log_loss, 'rocAuc': auc, 'lift': []}
    order = np.argsort(-scores, kind='stable')
    for fraction in [0.1, 0.25, 1.0]:
        top = int(np.ceil(fraction * len(labels) - 1e-9))
        top_rate = labels[order[:top]].mean()
        base = labels.mean()
        out['lift'].append({'fraction': fraction, 'lift': top_rate / base, 'topRate': top_rate,
                            'baseRate': base, 'topCount': top})
    return out


x = rng.uniform(size=400)
y = (rng.uniform(size=400) < x * 0.6).astype(float)
tied_scores = np.round(rng.uniform(size=60), 1)
tied_labels = (rng.uniform(size=60) < tied_scores).astype(float)
classification = [
    classification_case('calibrated400', y, x),
    classification_case('tiedScores60', tied_labels, tied_scores),
    classification_case('extremeProbabilities', [1, 0, 1, 0, 1], [1.0, 0.0, 1e-20, 0.999999, 0.5]),
]


def ranking_queries():
    queries = []
    for q in range(25):
        items = list(range(20))
        ranked = rng.permutation(items)[: int(rng.integers(3, 15))].tolist()
        relevant_items = rng.choice(items, size=int(rng.integers(0, 6)), replace=False).tolist()
        gains = {int(i): int(rng.integers(1, 4)) for i in relevant_items}
        queries.append({'ranked': ranked, 'gains': [[k, v] for k, v in gains.items()]})
    return queries


def ranking_metrics(queries, k, graded):
    prec, rec, ndcg, ndcg_exp, rr = [], [], [], [], []
    for q in queries:
        gains = {a: (b if graded else 1) for a, b in q['gains']}
        top = q['ranked'][:k]
        hits = sum(1 for i in top if gains.get(i, 0) > 0)
        prec.append(hits / k)
        rec.append(hits / len(gains) if gains else 0.0)
        for transform, out in [(lambda g: g, ndcg), (lambda g: 2.0 ** g - 1, ndcg_exp)]:
            dcg = sum(transform(gains.get(i, 0)) / np.log2(r + 2) for r, i in enumerate(top))
            ideal = sorted(gains.values(), reverse=True)[:k]
            idcg = sum(transform(g) / np.log2(r + 2) for r, g in enumerate(ideal))
            out.append(dcg / idcg if idcg > 0 else 0.0)
        first = next((r for r, i in enumerate(q['ranked']) if gains.get(i, 0) > 0), None)
        rr.append(0.0 if first is None else 1 / (first + 1))
    return {'k': k, 'graded': graded, 'precisionAtK': np.mean(prec), 'recallAtK': np.mean(rec),
            'ndcgAtK': np.mean(ndcg), 'ndcgAtKExponential': np.mean(ndcg_exp), 'mrr': np.mean(rr)}


queries = ranking_queries()
ranking = {'queries': queries,
           'results': [ranking_metrics(queries, k, graded) for k in [1, 3, 5, 10] for graded in [False, True]]}

rates = []
for clicks, impressions, conf in [(0, 50, 0.95), (7, 50, 0.95), (50, 50, 0.9), (1234, 56789, 0.99)]:
    lo, hi = proportion_confint(clicks, impressions, alpha=1 - conf, method='wilson')
    rates.append({'clicks': clicks, 'impressions': impressions, 'confidence': conf,
                  'estimate': clicks / impressions, 'ci': [lo, hi]})

write('metrics.json', {'classification': classification, 'ranking': ranking, 'ctr': rates})
