import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createDecider, segmentKey } from '../../src/decision/decider.ts';
import { policyOptionsOf } from '../../src/decision/index.ts';
import { CandidateRetrieval, optimisticCtr } from '../../src/decision/retrieval.ts';
import type { ArmStats, ItemInfo } from '../../src/domain/decision.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { createOnnxScorer, type Scorer } from '../../src/scoring/onnx-scorer.ts';
import { type MemoryState, memoryView, NOW, pool } from './support.ts';

const SEGMENT = segmentKey('mobile', null);

/** A pool of `n` items shown 1,000 times each with 1 % clicks, one never shown and one with 30 % clicks. */
function crowded(n: number): MemoryState {
  const state = pool(n);
  const arms = new Map<string, ArmStats>();
  for (const item of state.items) arms.set(`${item.itemId}|${SEGMENT}`, { impressions: 1000, clicks: 10 });
  arms.set(`item-7|${SEGMENT}`, { impressions: 1000, clicks: 300 });
  arms.delete(`item-${n - 1}|${SEGMENT}`);
  state.arms = arms;
  return state;
}

describe('candidate retrieval', () => {
  it('keeps the never-shown and the proven items of a large pool, in pool order, and no more than the limit', () => {
    const state = crowded(3000);
    const view = memoryView(state);
    const retrieval = new CandidateRetrieval({ maxCandidates: 50, refreshMs: 1000 });
    const candidates: ItemInfo[] = [];
    const n = retrieval.candidates(view, undefined, SEGMENT, NOW, candidates);
    expect(n).toBe(50);
    const ids = candidates.slice(0, n).map((i) => i.itemId);
    expect(ids).toContain('item-7');
    expect(ids).toContain('item-2999');
    const positions = ids.map((id) => Number(id.slice(5)));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(optimisticCtr(0, 0)).toBeGreaterThan(optimisticCtr(1000, 300));
    expect(optimisticCtr(1000, 300)).toBeGreaterThan(optimisticCtr(1000, 10));
  });

  it('reuses its ranking until it is stale, dropping items that became unavailable meanwhile', () => {
    const state = crowded(1000);
    const view = memoryView(state);
    const retrieval = new CandidateRetrieval({ maxCandidates: 20, refreshMs: 1000 });
    const retrieve = (at: number) => {
      const candidates: ItemInfo[] = [];
      const n = retrieval.candidates(view, undefined, SEGMENT, at, candidates);
      return candidates.slice(0, n).map((i) => i.itemId);
    };
    expect(retrieve(NOW)).toContain('item-7');
    expect(retrieve(NOW + 100)).toEqual(retrieve(NOW));
    // The pool changes as the live reader changes it (a new array): item-7 leaves it and a new item arrives,
    // which waits for the next ranking.
    state.items = [
      ...state.items.filter((i) => i.itemId !== 'item-7'),
      { ...state.items[0], itemId: 'item-new', available: true },
    ];
    const meanwhile = retrieve(NOW + 500);
    expect(meanwhile).not.toContain('item-7');
    expect(meanwhile).not.toContain('item-new');
    expect(retrieve(NOW + 1000)).toContain('item-new');
  });

  it('narrows nothing when the category filter leaves fewer than the limit, new items included', () => {
    const state = crowded(1000);
    const view = memoryView(state);
    const retrieval = new CandidateRetrieval({ maxCandidates: 300, refreshMs: 1000 });
    const ids = () => {
      const out: ItemInfo[] = [];
      const n = retrieval.candidates(view, 'kids', SEGMENT, NOW, out);
      return out.slice(0, n).map((i) => i.itemId);
    };
    expect(ids()).toHaveLength(200);
    state.items = [...state.items, { ...state.items[3], itemId: 'kids-new' }];
    expect(ids()).toContain('kids-new');
  });

  it('leaves a pool within the limit as it is', () => {
    const state = crowded(40);
    const retrieval = new CandidateRetrieval({ maxCandidates: 50, refreshMs: 1000 });
    const candidates: ItemInfo[] = [];
    expect(retrieval.candidates(memoryView(state), undefined, SEGMENT, NOW, candidates)).toBe(40);
    expect(candidates).toEqual(state.items);
  });
});

describe('a decision over a large pool', () => {
  let scorer: Scorer;
  beforeAll(async () => {
    scorer = await createOnnxScorer({ registryDir: 'models', logger: silentLogger() });
  });
  afterAll(async () => {
    await scorer.close();
  });

  it('scores only the retrieved candidates and deals from them', async () => {
    const rows: number[] = [];
    const counting: Scorer = Object.create(scorer, {
      score: {
        value: (matrix: Float32Array, n: number) => {
          rows.push(n);
          return scorer.score(matrix, n);
        },
      },
    });
    const state = crowded(5000);
    const decider = createDecider({
      ...policyOptionsOf(loadConfig({ overrides: ['model.maxCandidates=100'] }).model),
      scorer: counting,
      policy: 'thompson',
      logger: silentLogger(),
      now: () => NOW,
    });
    try {
      const request = {
        requestId: 'r1',
        userId: 'u1',
        slots: 10,
        context: { device: 'mobile', country: 'DE', page: 'home' },
      };
      const decision = await decider.decide(request, memoryView(state));
      expect(rows).toEqual([100]);
      expect(decision.items).toHaveLength(10);
      // The proven item is retrieved and, at 30 % against 1 %, dealt.
      expect(decision.items.map((i) => i.itemId)).toContain('item-7');
    } finally {
      await decider.close();
    }
  });

  it('gives every service the config tempering of Thompson sampling, not only the simulator', () => {
    const options = policyOptionsOf(
      loadConfig({ overrides: ['model.thompsonTemperature=0.5', 'model.temperingImpressions=77'] }).model,
    );
    expect(options.tempering).toEqual({ temperature: 0.5, impressions: 77 });
    expect(options.maxCandidates).toBe(500);
  });
});
