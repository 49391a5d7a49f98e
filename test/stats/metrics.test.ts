import { describe, expect, it } from 'vitest';
import {
  ctr,
  lift,
  logLoss,
  mrr,
  ndcgAtK,
  precisionAtK,
  type RankingQuery,
  recallAtK,
  rocAuc,
} from '../../src/stats/model-metrics.ts';
import { expectAllClose, expectClose, loadFixture } from './support.ts';

interface Fixture {
  classification: Array<{
    name: string;
    labels: number[];
    scores: number[];
    logLoss: number;
    rocAuc: number;
    lift: Array<{ fraction: number; lift: number; topRate: number; baseRate: number; topCount: number }>;
  }>;
  ranking: {
    queries: Array<{ ranked: number[]; gains: Array<[number, number]> }>;
    results: Array<{
      k: number;
      graded: boolean;
      precisionAtK: number;
      recallAtK: number;
      ndcgAtK: number;
      ndcgAtKExponential: number;
      mrr: number;
    }>;
  };
  ctr: Array<{
    clicks: number;
    impressions: number;
    confidence: number;
    estimate: number;
    ci: [number, number];
  }>;
}

const F = loadFixture<Fixture>('metrics.json');

describe('classification metrics agree with the numpy/scipy reference', () => {
  for (const c of F.classification) {
    it(`${c.name}: log loss, ROC AUC (ties as halves) and lift of the top fraction`, () => {
      expectClose(logLoss(c.labels, c.scores), c.logLoss, 'log loss');
      expectClose(rocAuc(c.labels, c.scores), c.rocAuc, 'auc');
      for (const want of c.lift) {
        const got = lift(c.labels, c.scores, { fraction: want.fraction });
        expect(got.topCount).toBe(want.topCount);
        expectClose(got.lift, want.lift, `lift@${want.fraction}`);
        expectClose(got.baseRate, want.baseRate, 'base rate');
      }
    });
  }
});

describe('ranking metrics agree with their definitions', () => {
  for (const want of F.ranking.results) {
    it(`precision, recall, NDCG at k = ${want.k} and MRR (${want.graded ? 'graded' : 'binary'} relevance)`, () => {
      const queries: RankingQuery<number>[] = F.ranking.queries.map((q) => ({
        ranked: q.ranked,
        relevant: want.graded ? new Map(q.gains) : q.gains.map(([item]) => item),
      }));
      expectClose(precisionAtK(queries, want.k), want.precisionAtK, 'precision');
      expectClose(recallAtK(queries, want.k), want.recallAtK, 'recall');
      expectClose(ndcgAtK(queries, want.k), want.ndcgAtK, 'ndcg');
      expectClose(ndcgAtK(queries, want.k, { gain: 'exponential' }), want.ndcgAtKExponential, 'ndcg exp');
      expectClose(mrr(queries), want.mrr, 'mrr');
    });
  }

  it('gives a perfect ranking NDCG 1 and MRR 1', () => {
    const q = [
      {
        ranked: ['a', 'b', 'c'],
        relevant: new Map([
          ['a', 3],
          ['b', 1],
        ]),
      },
    ];
    expect(ndcgAtK(q, 3)).toBe(1);
    expect(mrr(q)).toBe(1);
    expect(() => precisionAtK(q, 0)).toThrow(/k/);
  });
});

describe('ctr', () => {
  for (const c of F.ctr) {
    it(`${c.clicks}/${c.impressions}: rate and Wilson interval at ${c.confidence}`, () => {
      const got = ctr(c.clicks, c.impressions, { confidence: c.confidence });
      expectClose(got.estimate, c.estimate, 'rate');
      expectAllClose(got.ci, c.ci, 'ci');
    });
  }

  it('rejects more clicks than impressions', () => {
    expect(() => ctr(5, 4)).toThrow(expect.objectContaining({ code: 'CROUPIER_ERR_STATS_INVALID_ARGUMENT' }));
  });
});

describe('label checks', () => {
  it('rejects labels other than 0 and 1 and a single-class AUC', () => {
    expect(() => logLoss([0, 2], [0.1, 0.2])).toThrow(/labels\[1\]/);
    expect(() => rocAuc([1, 1], [0.1, 0.2])).toThrow(/single class/);
  });
});
