import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecider, segmentKey } from '../../src/decision/decider.ts';
import type { DecisionRequest } from '../../src/domain/decision.ts';
import { parseExperimentsConfig } from '../../src/experiments/config.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { createOnnxScorer, type Scorer } from '../../src/scoring/onnx-scorer.ts';
import { memoryView, NOW, pool, user } from './support.ts';

let scorer: Scorer;
beforeAll(async () => {
  scorer = await createOnnxScorer({ registryDir: 'models', logger: silentLogger() });
});
afterAll(async () => {
  await scorer.close();
});

function request(overrides: Partial<DecisionRequest> = {}): DecisionRequest {
  return {
    requestId: 'r1',
    userId: 'u1',
    slots: 10,
    context: { device: 'mobile', country: 'DE', page: 'home' },
    ...overrides,
  };
}

describe('decide', () => {
  it('deals a Thompson-sampled carousel with scores, samples, propensities and timings', async () => {
    const state = pool(200);
    state.users = new Map([['u1', user('u1', { segment: 'premium' })]]);
    const decider = createDecider({
      scorer,
      policy: 'thompson',
      priorStrength: 20,
      logger: silentLogger(),
      now: () => NOW,
    });
    const decision = await decider.decide(request(), memoryView(state));
    expect(decision.requestId).toBe('r1');
    expect(decision.policy).toBe('thompson');
    expect(decision.modelVersion).toBe('default-1');
    expect(decision.segment).toBe('mobile|premium');
    expect(decision.items).toHaveLength(10);
    expect(new Set(decision.items.map((i) => i.itemId)).size).toBe(10);
    decision.items.forEach((item, slot) => {
      expect(item.slot).toBe(slot);
      expect(item.score).toBeGreaterThan(0);
      expect(item.score).toBeLessThan(1);
      expect(item.propensity).toBeGreaterThan(0);
      expect(item.propensity).toBeLessThanOrEqual(1);
      if (slot > 0) expect(item.sample).toBeLessThanOrEqual(decision.items[slot - 1].sample);
    });
    expect(decision.propensity?.method).toBe('integral');
    expect(decision.shadow).toBeNull();
    expect(decision.experiment).toBeNull();
    expect(decision.timings.featuresUs).toBeGreaterThanOrEqual(0);
    expect(decision.timings.totalUs).toBeGreaterThan(0);
    await decider.close();
  });

  it('filters candidates by category and returns fewer items when fewer match', async () => {
    const state = pool(20);
    const decider = createDecider({
      scorer,
      policy: 'greedy',
      priorStrength: 20,
      logger: silentLogger(),
      now: () => NOW,
    });
    const decision = await decider.decide(
      request({ filters: { category: 'news' }, slots: 10 }),
      memoryView(state),
    );
    expect(decision.items).toHaveLength(4);
    const news = new Set(state.items.filter((i) => i.category === 'news').map((i) => i.itemId));
    for (const item of decision.items) expect(news.has(item.itemId)).toBe(true);
    const none = await decider.decide(request({ filters: { category: 'opera' } }), memoryView(state));
    expect(none.items).toEqual([]);
  });

  it('reads the posteriors of the segment named by device and user segment', async () => {
    expect(segmentKey(null, undefined)).toBe('unknown|unknown');
    const state = pool(5);
    // Only the tv|unknown segment has data: item-3 clicked a lot there.
    state.arms = new Map([['item-3|tv|unknown', { impressions: 1000, clicks: 900 }]]);
    const decider = createDecider({
      scorer,
      policy: 'greedy',
      priorStrength: 20,
      logger: silentLogger(),
      now: () => NOW,
    });
    const tv = await decider.decide(
      request({ slots: 1, context: { device: 'tv', country: null, page: null } }),
      memoryView(state),
    );
    expect(tv.segment).toBe('tv|unknown');
    expect(tv.items[0].itemId).toBe('item-3');
    const mobile = await decider.decide(request({ slots: 1 }), memoryView(state));
    expect(mobile.segment).toBe('mobile|unknown');
    expect(mobile.items[0].sample).toBeLessThan(0.5);
  });

  it('runs concurrent decisions without mixing their candidates', async () => {
    const decider = createDecider({
      scorer,
      policy: 'thompson',
      priorStrength: 20,
      logger: silentLogger(),
      now: () => NOW,
    });
    const state = pool(60);
    const view = memoryView(state);
    const categories = ['movies', 'series', 'news', 'kids', 'poetry'];
    const decisions = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        decider.decide(
          request({ requestId: `r${i}`, slots: 5, filters: { category: categories[i % 5] } }),
          view,
        ),
      ),
    );
    decisions.forEach((d, i) => {
      expect(d.requestId).toBe(`r${i}`);
      for (const item of d.items) {
        expect(state.items.find((x) => x.itemId === item.itemId)?.category).toBe(categories[i % 5]);
      }
    });
  });

  it('is reproducible from its seed', async () => {
    const state = pool(100);
    const a = createDecider({
      scorer,
      policy: 'thompson',
      priorStrength: 20,
      seed: 42,
      logger: silentLogger(),
      now: () => NOW,
    });
    const b = createDecider({
      scorer,
      policy: 'thompson',
      priorStrength: 20,
      seed: 42,
      logger: silentLogger(),
      now: () => NOW,
    });
    const da = await a.decide(request(), memoryView(state));
    const db = await b.decide(request(), memoryView(state));
    expect(da.items).toEqual(db.items);
  });

  it('rejects a request for no slots with a code', async () => {
    const decider = createDecider({ scorer, policy: 'thompson', priorStrength: 20, logger: silentLogger() });
    await expect(decider.decide(request({ slots: 0 }), memoryView(pool(3)))).rejects.toMatchObject({
      code: 'CROUPIER_ERR_DECISION_INVALID',
    });
  });

  it('serves each user their variant, and computes a shadow slate that is logged, never shown', async () => {
    const experiments = parseExperimentsConfig({
      holdout: { salt: 'h', percent: 10 },
      layers: [
        {
          name: 'ranking',
          salt: 'ranking-1',
          experiments: [
            {
              name: 'greedy-vs-ts',
              range: [0, 100],
              variants: [{ name: 'control' }, { name: 'greedy', policy: 'greedy' }],
              shadow: { policy: 'random' },
            },
          ],
        },
      ],
    });
    const decider = createDecider({
      scorer,
      policy: 'thompson',
      priorStrength: 20,
      experiments,
      logger: silentLogger(),
      now: () => NOW,
    });
    const view = memoryView(pool(50));
    const seen = new Map<string, number>();
    for (let u = 0; u < 60; u++) {
      const d = await decider.decide(request({ userId: `user-${u}`, slots: 5 }), view);
      const key = `${d.experiment}/${d.variant}/${d.policy}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (d.variant === 'holdout') {
        expect(d.shadow).toBeNull();
        expect(d.policy).toBe('thompson');
        continue;
      }
      expect(d.experiment).toBe('greedy-vs-ts');
      expect(d.policy).toBe(d.variant === 'greedy' ? 'greedy' : 'thompson');
      expect(d.assignments).toEqual([{ layer: 'ranking', experiment: 'greedy-vs-ts', variant: d.variant }]);
      expect(d.shadow?.policy).toBe('random');
      expect(d.shadow?.items).toHaveLength(5);
      for (const item of d.shadow?.items ?? []) expect(item.propensity).toBeCloseTo(1 / 50, 12);
      // A uniformly random slate puts any shown item in its slot with probability 1/n, exactly.
      expect(d.shadow?.shownPropensities).toHaveLength(d.items.length);
      for (const p of d.shadow?.shownPropensities ?? []) expect(p).toBeCloseTo(1 / 50, 12);
      expect(d.shadow?.shownPropensity.method).toBe('exact');
      // The shown slate is the policy's own, with its own propensities.
      if (d.policy === 'greedy') for (const item of d.items) expect(item.propensity).toBe(1);
    }
    expect([...seen.keys()].sort()).toEqual([
      'greedy-vs-ts/control/thompson',
      'greedy-vs-ts/greedy/greedy',
      'holdout/holdout/thompson',
    ]);
  });
});

describe("the shadow policy's probabilities of the shown slate", () => {
  const shadowOnly = (policy: 'greedy' | 'thompson') =>
    parseExperimentsConfig({ layers: [], shadow: { policy } });

  it('gives a greedy shadow 1 where it ranks the shown item in the same slot and 0 where it never would', async () => {
    const decider = createDecider({
      scorer,
      policy: 'thompson',
      priorStrength: 20,
      experiments: shadowOnly('greedy'),
      logger: silentLogger(),
      now: () => NOW,
    });
    const view = memoryView(pool(50));
    let agreed = 0;
    let disagreed = 0;
    for (let r = 0; r < 40; r++) {
      const d = await decider.decide(request({ requestId: `r${r}`, userId: `user-${r}`, slots: 5 }), view);
      const shadow = d.shadow;
      expect(shadow?.policy).toBe('greedy');
      expect(shadow?.shownPropensity.method).toBe('exact');
      d.items.forEach((item, s) => {
        const p = shadow?.shownPropensities[s];
        // pool(50) gives every item its own posterior mean: the greedy slate is certain.
        if (shadow?.items[s].itemId === item.itemId) {
          expect(p).toBe(1);
          agreed++;
        } else {
          expect(p).toBe(0);
          disagreed++;
        }
      });
    }
    expect(agreed).toBeGreaterThan(0);
    expect(disagreed).toBeGreaterThan(0);
  });

  it("estimates a Thompson shadow's probabilities of the shown slate within the reported error bound", async () => {
    // Logging and shadow policy both Thompson sampling: two independent estimates of the same probabilities.
    const decider = createDecider({
      scorer,
      policy: 'thompson',
      priorStrength: 20,
      experiments: shadowOnly('thompson'),
      propensity: { replicates: 4000, floor: 1e-9 },
      logger: silentLogger(),
      now: () => NOW,
    });
    const view = memoryView(pool(50));
    for (let r = 0; r < 5; r++) {
      const d = await decider.decide(request({ requestId: `r${r}`, userId: `user-${r}`, slots: 5 }), view);
      const shadow = d.shadow;
      if (shadow === null) throw new Error('expected a shadow decision');
      expect(shadow.shownPropensity.method).toBe('monte-carlo');
      expect(shadow.shownPropensity.replicates).toBe(4000);
      const bound = shadow.shownPropensity.errorBound + (d.propensity?.errorBound ?? 1);
      expect(bound).toBeLessThan(0.1);
      d.items.forEach((item, s) => {
        const p = shadow.shownPropensities[s];
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
        expect(Math.abs(p - item.propensity)).toBeLessThanOrEqual(bound);
      });
    }
  });
});

describe('propensities after the reply', () => {
  it('leaves them out of decide and completes them to the same numbers as a decider that does not wait', async () => {
    const state = pool(200);
    const options = {
      scorer,
      policy: 'thompson' as const,
      priorStrength: 20,
      logger: silentLogger(),
      seed: 5,
      now: () => NOW,
    };
    const inline = createDecider(options);
    const deferred = createDecider({ ...options, deferPropensities: true });
    const view = memoryView(state);
    for (let r = 0; r < 3; r++) {
      const expected = await inline.decide(request({ requestId: `d${r}` }), view);
      const decision = await deferred.decide(request({ requestId: `d${r}` }), view);
      expect(decision.items.map((i) => i.itemId)).toEqual(expected.items.map((i) => i.itemId));
      for (const item of decision.items) expect(item.propensity).toBeNaN();
      expect(decision.propensity).toBeUndefined();
      deferred.completePropensities(decision);
      expect(decision.items.map((i) => i.propensity)).toEqual(expected.items.map((i) => i.propensity));
      expect(decision.propensity).toEqual(expected.propensity);
      expect(decision.timings.propensityUs).toBeGreaterThan(0);
      // Completing twice changes nothing.
      deferred.completePropensities(decision);
      expect(decision.items.map((i) => i.propensity)).toEqual(expected.items.map((i) => i.propensity));
    }
    await inline.close();
    await deferred.close();
  });

  it('computes exact propensities at once: only Thompson sampling waits', async () => {
    const decider = createDecider({
      scorer,
      policy: 'greedy',
      priorStrength: 20,
      logger: silentLogger(),
      deferPropensities: true,
      now: () => NOW,
    });
    const decision = await decider.decide(request(), memoryView(pool(50)));
    expect(decision.propensity?.method).toBe('exact');
    for (const item of decision.items) expect(item.propensity).toBe(1);
    await decider.close();
  });
});

describe('createDecisionCore', () => {
  it('builds the scorer and decider from the config defaults', async () => {
    const { configSchema } = await import('../../src/config/index.ts');
    const { createDecisionCore } = await import('../../src/decision/index.ts');
    const config = configSchema.parse({ model: { watchRegistry: false } });
    const core = await createDecisionCore({
      model: config.model,
      policy: config.gateway.policy,
      logger: silentLogger(),
      seed: 3,
    });
    try {
      const decision = await core.decide(request({ slots: 3 }), memoryView(pool(30)));
      expect(decision.items).toHaveLength(3);
      expect(decision.modelVersion).toBe(core.scorer.model.version);
      // Thompson sampling's logging propensities are integrated, not drawn.
      expect(decision.propensity?.method).toBe('integral');
      expect(decision.propensity?.replicates).toBe(0);
    } finally {
      await core.close();
    }
  });
});
