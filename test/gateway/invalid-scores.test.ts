/**
 * A model that passed the load-time probe can score NaN, or outside [0, 1], on live rows. The gateway still deals
 * (such an item is ranked on its counts) and logs the carousel without those scores; `/metrics` counts every shown
 * item whose score was out of range, so an operator sees the model misbehave.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scorer } from '../../src/scoring/onnx-scorer.ts';
import { helloAs, startWorld, type World } from './support.ts';

/** The real model's scores, with every third row NaN and every third from the second 1.5. */
function misbehaving(real: Scorer): Scorer {
  return new Proxy(real, {
    get(target, key, receiver) {
      if (key !== 'score') return Reflect.get(target, key, receiver);
      return async (features: Float32Array, rows: number, userId?: string) => {
        const result = await target.score(features, rows, userId);
        const scores = Float32Array.from(result.scores, (p, i) =>
          i % 3 === 0 ? Number.NaN : i % 3 === 1 ? 1.5 : p,
        );
        return { ...result, scores };
      };
    },
  });
}

const counter = async (world: World, name: string) => {
  const text = await (await fetch(`${world.httpUrl}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
};

describe('a model that scores out of range on live rows', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({}, { wrapScorer: misbehaving });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('still deals, and /metrics counts each shown item whose score was out of range', async () => {
    expect(await counter(world, 'croupier_invalid_scores_total')).toBe(0);
    const client = await helloAs(world.wsUrl, 'u-invalid');
    let invalid = 0;
    for (let r = 0; r < 5; r++) {
      client.send({ type: 'carousel', requestId: `bad-${r}`, slots: 6 });
      const reply = await client.next((m) => m.type === 'carousel' && m.requestId === `bad-${r}`);
      const items = reply.items as { score: number | null }[];
      expect(items).toHaveLength(6);
      invalid += items.filter((i) => !(typeof i.score === 'number' && i.score >= 0 && i.score <= 1)).length;
    }
    client.close();
    expect(invalid).toBeGreaterThan(0);
    expect(await counter(world, 'croupier_invalid_scores_total')).toBe(invalid);
  });
});
