/**
 * Deferred Thompson propensities integrated on the propensity thread: the same values as on the calling thread,
 * every decision completed exactly once when the backlog is full or the thread dies, and in between nothing lost.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDecider, type Decider } from '../../src/decision/decider.ts';
import { BATCH_WAIT_MS, PropensityOffload } from '../../src/decision/propensity-offload.ts';
import type { Decision, DecisionRequest } from '../../src/domain/decision.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { createOnnxScorer, type Scorer } from '../../src/scoring/onnx-scorer.ts';
import { memoryView, NOW, pool } from './support.ts';

let scorer: Scorer;
beforeAll(async () => {
  scorer = await createOnnxScorer({ registryDir: 'models', logger: silentLogger() });
});
afterAll(async () => {
  await scorer.close();
});
const offloads: PropensityOffload[] = [];
afterEach(async () => {
  for (const o of offloads.splice(0)) await o.close();
});

function request(requestId: string): DecisionRequest {
  return { requestId, userId: 'u1', slots: 8, context: { device: 'mobile', country: 'DE', page: 'home' } };
}

function deciders(offload: PropensityOffload): { here: Decider; there: Decider } {
  const options = {
    scorer,
    policy: 'thompson' as const,
    priorStrength: 20,
    logger: silentLogger(),
    now: () => NOW,
  };
  return {
    here: createDecider({ ...options, deferPropensities: true, seed: 5 }),
    there: createDecider({ ...options, deferPropensities: true, seed: 5, propensityOffload: offload }),
  };
}

/** Deals `count` carousels from both deciders (same seed, same state: the same slates). */
async function deal(here: Decider, there: Decider, count: number): Promise<[Decision[], Decision[]]> {
  const view = memoryView(pool(120));
  const a: Decision[] = [];
  const b: Decision[] = [];
  for (let i = 0; i < count; i++) {
    a.push(await here.decide(request(`r${i}`), view));
    b.push(await there.decide(request(`r${i}`), view));
  }
  return [a, b];
}

function completeAll(decider: Decider, decisions: Decision[]): Promise<number[]> {
  const calls = decisions.map(() => 0);
  return new Promise((resolve) => {
    let left = decisions.length;
    for (const [i, d] of decisions.entries()) {
      decider.completePropensitiesThen(d, () => {
        calls[i]++;
        if (--left === 0) setTimeout(() => resolve(calls), 50);
      });
    }
  });
}

describe('the propensity thread', () => {
  it('integrates the same propensities as the calling thread, after the call returns', async () => {
    const offload = new PropensityOffload({ logger: silentLogger() });
    offloads.push(offload);
    const { here, there } = deciders(offload);
    const [a, b] = await deal(here, there, 40);
    for (const d of a) here.completePropensities(d);
    const finished = completeAll(there, b);
    expect(b.filter((d) => !Number.isNaN(d.items[0].propensity))).toHaveLength(0);
    expect(await finished).toEqual(b.map(() => 1));
    for (let i = 0; i < a.length; i++) {
      expect(b[i].items.map((it) => it.itemId)).toEqual(a[i].items.map((it) => it.itemId));
      expect(b[i].items.map((it) => it.propensity)).toEqual(a[i].items.map((it) => it.propensity));
      expect(b[i].propensity).toEqual(a[i].propensity);
    }
    expect(offload.stats()).toMatchObject({ offloaded: 40, refused: 0, failed: 0, backlog: 0 });
  });

  it('integrates in place what a full backlog refuses, each decision once', async () => {
    const offload = new PropensityOffload({ logger: silentLogger(), maxBacklog: 5 });
    offloads.push(offload);
    const { here, there } = deciders(offload);
    const [a, b] = await deal(here, there, 12);
    for (const d of a) here.completePropensities(d);
    expect(await completeAll(there, b)).toEqual(b.map(() => 1));
    for (let i = 0; i < a.length; i++)
      expect(b[i].items.map((it) => it.propensity)).toEqual(a[i].items.map((it) => it.propensity));
    expect(offload.stats()).toMatchObject({ offloaded: 5, refused: 7, backlog: 0 });
  });

  it('completes on the calling thread what a crashed thread held, then starts a new thread', async () => {
    const offload = new PropensityOffload({ logger: silentLogger() });
    offloads.push(offload);
    const { here, there } = deciders(offload);
    const [a, b] = await deal(here, there, 20);
    for (const d of a) here.completePropensities(d);
    const first = completeAll(there, b.slice(0, 10));
    // The batch is posted once its gathering wait is over; the thread, still starting, dies before it can answer.
    await new Promise((resolve) => setTimeout(resolve, BATCH_WAIT_MS + 5));
    await offload.crash();
    expect(await first).toEqual(Array(10).fill(1));
    expect(offload.stats().failed).toBe(10);
    expect(await completeAll(there, b.slice(10))).toEqual(Array(10).fill(1));
    expect(offload.stats().offloaded).toBe(10);
    for (let i = 0; i < a.length; i++)
      expect(b[i].items.map((it) => it.propensity)).toEqual(a[i].items.map((it) => it.propensity));
  });

  it('answers the batches it holds when closed, and ends on its own', async () => {
    const offload = new PropensityOffload({ logger: silentLogger() });
    offloads.push(offload);
    const { here, there } = deciders(offload);
    const [a, b] = await deal(here, there, 10);
    for (const d of a) here.completePropensities(d);
    const done = completeAll(there, b);
    // The batch is still gathering when the offload is closed: it goes to the thread, which answers it, then ends.
    // A grace long enough for a thread still starting on a loaded machine (the default, 2 s, is for shutdowns).
    await offload.close(30_000);
    expect(await done).toEqual(Array(10).fill(1));
    expect(offload.stats()).toMatchObject({ offloaded: 10, failed: 0, backlog: 0 });
    for (let i = 0; i < a.length; i++)
      expect(b[i].items.map((it) => it.propensity)).toEqual(a[i].items.map((it) => it.propensity));
  });

  it('spreads the batches over several threads, with the same propensities', async () => {
    const offload = new PropensityOffload({ logger: silentLogger(), threads: 3, batchMax: 8 });
    offloads.push(offload);
    const { here, there } = deciders(offload);
    const [a, b] = await deal(here, there, 40);
    for (const d of a) here.completePropensities(d);
    expect(await completeAll(there, b)).toEqual(b.map(() => 1));
    for (let i = 0; i < a.length; i++)
      expect(b[i].items.map((it) => it.propensity)).toEqual(a[i].items.map((it) => it.propensity));
    const stats = offload.stats();
    expect(stats).toMatchObject({ offloaded: 40, refused: 0, failed: 0, backlog: 0 });
    // Five batches of 8, each to the thread with the fewest in flight: every thread integrated some.
    expect(stats.perThread).toHaveLength(3);
    expect(stats.perThread.every((n) => n > 0)).toBe(true);
    expect(stats.perThread.reduce((x, y) => x + y, 0)).toBe(40);
  });
});
