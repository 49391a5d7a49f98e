/**
 * Comparing click models at the logged slots: a holdout's clicks happened at the slots the logging policy
 * chose, and that policy put its own high scores on top, so position-neutral predictions compared with the
 * clicks as they are favour the model that logged the data. Fitted slot offsets put both on the same footing.
 */
import { describe, expect, it } from 'vitest';
import { logLoss, rocAuc } from '../../src/stats/index.ts';
import { createRng } from '../../src/stats/rng.ts';
import { atLoggedSlot, fitSlotOffset } from '../../src/train/position.ts';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Carousels of 5 of 40 items ranked by the logging model's noisy scores; clicks = b(slot) · q(item). */
function loggedWorld(seed: number, carousels: number) {
  const rng = createRng(seed);
  const merit = Array.from({ length: 40 }, () => -2 + rng.normal());
  const logging = merit.map((m) => sigmoid(m + 0.9 * rng.normal()));
  const rows = {
    truth: [] as number[],
    logging: [] as number[],
    slots: [] as number[],
    labels: [] as number[],
  };
  for (let c = 0; c < carousels; c++) {
    const pool = Array.from({ length: 12 }, () => Math.floor(rng.next() * 40));
    const shown = [...new Set(pool)].sort((a, b) => logging[b] - logging[a]).slice(0, 5);
    shown.forEach((item, slot) => {
      const q = sigmoid(merit[item] + 1);
      rows.truth.push(sigmoid(merit[item]));
      rows.logging.push(logging[item]);
      rows.slots.push(slot);
      rows.labels.push(rng.next() < q / (1 + slot) ** 0.8 ? 1 : 0);
    });
  }
  return rows;
}

describe('comparing models at the logged slots', () => {
  it('finds the model that knows the merit better, by a wider margin than the clicks as logged show', () => {
    const train = loggedWorld(11, 3000);
    const holdout = loggedWorld(11, 6000);
    const h = holdout.labels;
    // As logged, the logging model's scores line up with the slots that drew the clicks.
    const rawTruth = rocAuc(h, holdout.truth);
    const rawLogging = rocAuc(h, holdout.logging);
    const slotted = (trainScores: number[], holdoutScores: number[]) =>
      atLoggedSlot(holdoutScores, holdout.slots, fitSlotOffset(trainScores, train.slots, train.labels));
    const truth = slotted(train.truth, holdout.truth);
    const logging = slotted(train.logging, holdout.logging);
    expect(logLoss(h, truth)).toBeLessThan(logLoss(h, logging));
    expect(rocAuc(h, truth)).toBeGreaterThan(rocAuc(h, logging));
    expect(rocAuc(h, truth) - rocAuc(h, logging)).toBeGreaterThan(rawTruth - rawLogging);
  });

  it('recovers the slot effect it was given', () => {
    const rng = createRng(3);
    const scores: number[] = [];
    const slots: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 40_000; i++) {
      const p = 0.02 + 0.3 * rng.next();
      const slot = Math.floor(rng.next() * 6);
      scores.push(p);
      slots.push(slot);
      const z = Math.log(p / (1 - p)) + 0.4 - 1.1 * Math.log1p(slot);
      labels.push(rng.next() < sigmoid(z) ? 1 : 0);
    }
    const offset = fitSlotOffset(scores, slots, labels);
    expect(Math.abs(offset.intercept - 0.4)).toBeLessThan(0.15);
    expect(Math.abs(offset.slope + 1.1)).toBeLessThan(0.15);
  });
});
