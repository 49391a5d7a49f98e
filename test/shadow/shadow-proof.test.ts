/**
 * The proof that shadow estimates are right, at test size (the full version over 40 seeds is
 * `npm run bench:shadow`): traffic logged under Thompson sampling in a seeded world, each candidate estimated
 * from the log with every estimator and compared with the candidate's on-policy CTR in the same world, seed and
 * state. Seeds 1–4, fixed before looking; the world, logging policy and candidates are the full proof's
 * (simulator/shadow/proof-world.ts), at 2,000 carousels per seed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRecordingWriter, readRecording } from '../../simulator/replay/recording.ts';
import { PROOF_CANDIDATES, runProofSeed } from '../../simulator/shadow/proof-world.ts';
import { ESTIMATORS, type EstimatorName } from '../../src/shadow/estimators.ts';
import { evaluateShadow } from '../../src/shadow/evaluate-shadow.ts';
import { carouselsFromRecording } from '../../src/shadow/recording-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'croupier-shadow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SEEDS = [1, 2, 3, 4];
const CAROUSELS = 2000;

describe('shadow estimates against the on-policy truth', () => {
  it('keep every candidate inside the log, and cover it with SNIPS and DR, item-and-slot and position-based', () => {
    // Per estimator: seeds × candidates whose interval holds the truth, and the relative errors of the candidates
    // the log estimates closely. UCB1 (its bonus puts first the items Thompson sampling shows least) is inside
    // the log's support but its effective sample is a few per cent of the impressions at most, pooled over the
    // slots or not: its errors are tens of percent at this size (README, Shadow tests), so only its coverage is
    // checked. Pooling an item's outcomes over the slots gives greedy, which deals each item in one slot, a
    // larger effective sample than the item-and-slot weights. Each seed replays every shown item in every slot
    // under the logger and the Thompson candidate (five integrals a carousel each): minutes on two busy cores.
    const covered = Object.fromEntries(ESTIMATORS.map((e) => [e, 0])) as Record<EstimatorName, number>;
    const errors = Object.fromEntries(ESTIMATORS.map((e) => [e, [] as number[]])) as Record<
      EstimatorName,
      number[]
    >;
    let cases = 0;
    for (const seed of SEEDS) {
      const run = runProofSeed(seed, CAROUSELS);
      const report = evaluateShadow(run.carousels, PROOF_CANDIDATES, { replicates: 200, seed });
      expect(report.carousels.evaluated).toBe(CAROUSELS);
      for (const candidate of report.candidates) {
        // The proof's world keeps Thompson sampling dealing every (item, slot) that any candidate deals.
        expect(candidate.diagnostics.outsideSupport).toBeLessThan(0.001);
        expect(candidate.verdict.supported).toBe(true);
        cases++;
        if (candidate.spec.policy === 'greedy') {
          expect(candidate.diagnostics.positionBased.effectiveSampleSize).toBeGreaterThan(
            2 * candidate.diagnostics.effectiveSampleSize,
          );
        }
        const truth = run.truth[candidate.label];
        for (const estimator of ESTIMATORS) {
          const e = candidate.metrics.ctr.estimates[estimator];
          if (e.ci[0] <= truth && truth <= e.ci[1]) covered[estimator]++;
          if (candidate.spec.policy !== 'ucb1') errors[estimator].push(Math.abs(e.estimate - truth) / truth);
        }
      }
    }
    expect(cases).toBe(SEEDS.length * PROOF_CANDIDATES.length);
    for (const estimator of ['snips', 'dr', 'pbm-snips', 'pbm-dr'] as const) {
      expect(covered[estimator] / cases).toBeGreaterThanOrEqual(0.75);
      const mean = errors[estimator].reduce((a, b) => a + b, 0) / errors[estimator].length;
      expect(mean).toBeLessThan(0.1);
    }
  }, 300_000);

  it('reads the same estimates back from the recording of the run', async () => {
    const file = join(dir, 'seed-1.jsonl');
    const recorder = createRecordingWriter(file);
    const run = runProofSeed(1, 500, recorder);
    await recorder.close();
    const options = { replicates: 100, seed: 1 };
    const direct = evaluateShadow(run.carousels, PROOF_CANDIDATES, options);
    const replayed = evaluateShadow(carouselsFromRecording(readRecording(file)), PROOF_CANDIDATES, options);
    expect(replayed.impressions).toBe(direct.impressions);
    for (const [k, candidate] of replayed.candidates.entries()) {
      const want = direct.candidates[k].metrics.ctr.estimates;
      for (const estimator of ESTIMATORS) {
        expect(candidate.metrics.ctr.estimates[estimator].estimate).toBeCloseTo(want[estimator].estimate, 10);
      }
    }
  });

  it('bootstraps only the rewards asked for, with the same intervals for them', () => {
    const run = runProofSeed(2, 300);
    const all = evaluateShadow(run.carousels, PROOF_CANDIDATES, { replicates: 50, seed: 2 });
    const ctrOnly = evaluateShadow(run.carousels, PROOF_CANDIDATES, {
      replicates: 50,
      seed: 2,
      intervalsFor: ['ctr'],
    });
    for (const [k, candidate] of ctrOnly.candidates.entries()) {
      expect(candidate.metrics.ctr).toEqual(all.candidates[k].metrics.ctr);
      const conversions = candidate.metrics.conversions.estimates.dr;
      expect(conversions.estimate).toBe(all.candidates[k].metrics.conversions.estimates.dr.estimate);
      expect(conversions.ci.every(Number.isNaN)).toBe(true);
    }
  });
});
