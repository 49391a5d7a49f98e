/**
 * The promotion gate's off-policy check: the candidate model's policy estimated with the shadow test's estimators
 * (src/shadow) from carousels whose candidate sets it scored in shadow, against the active policy's own log;
 * refused when it is worse with 95 % confidence, noted and passed when no such carousels exist (unless required),
 * and read from a real archive with DuckDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ArchiveRecord } from '../../src/archive/format/rows.ts';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import type { CandidateSet } from '../../src/domain/candidate-set.ts';
import { evaluateGate, type GateSettings, type OffPolicyComparison } from '../../src/models/gate.ts';
import type { GateEvidence } from '../../src/models/lineage.ts';
import { compareShadowModel } from '../../src/models/shadow-model-comparison.ts';
import type { LoggedCarousel } from '../../src/shadow/logged-carousel.ts';
import { loggedPolicy, PolicyReplay } from '../../src/shadow/policy-replay.ts';
import { createRng } from '../../src/stats/rng.ts';
import { shadowTestEstimator } from '../../src/train/shadow-test-estimator.ts';
import { clickstreamRecord, writeClickstreamArchive } from '../support/clickstream-archive.ts';
import { SAMPLE_EVENTS } from '../support/sample-events.ts';

const EVIDENCE: GateEvidence = {
  parityPassed: true,
  candidateLogLoss: 0.2,
  comparedWith: 'default-1',
  activeLogLoss: 0.25,
  aucDifference: { difference: 0.02, ci: [0.01, 0.03], confidence: 0.95 },
};

const SETTINGS: GateSettings = {
  logLossMargin: 0.001,
  requireAucNotWorse: true,
  offPolicy: 'when-available',
  offPolicyConfidence: 0.95,
  offPolicyMinRows: 100,
};

const comparison = (ci: [number, number], rows = 5000): OffPolicyComparison => ({
  method: 'SNIPS',
  rows,
  effectiveSampleSize: rows / 2,
  candidate: 0.1,
  active: 0.1,
  difference: (ci[0] + ci[1]) / 2,
  ci,
  confidence: 0.95,
});

const offPolicyCheck = (settings: GateSettings, c: OffPolicyComparison | null) =>
  evaluateGate(EVIDENCE, 'default-1', settings, c).checks.find((x) => x.name === 'off-policy');

describe('the off-policy check of the promotion gate', () => {
  it('refuses a candidate whose policy is worse with 95 % confidence, and passes one that is not', () => {
    expect(evaluateGate(EVIDENCE, 'default-1', SETTINGS, comparison([-0.03, -0.01])).passed).toBe(false);
    expect(offPolicyCheck(SETTINGS, comparison([-0.03, -0.01]))?.passed).toBe(false);
    expect(evaluateGate(EVIDENCE, 'default-1', SETTINGS, comparison([-0.01, 0.02])).passed).toBe(true);
  });

  it('notes and passes a missing estimate when available is enough, refuses it when required', () => {
    const missing = offPolicyCheck(SETTINGS, null);
    expect(missing?.passed).toBe(true);
    expect(missing?.detail).toMatch(/no carousel's candidate set was scored by the candidate in shadow/);
    expect(offPolicyCheck({ ...SETTINGS, offPolicy: 'required' }, null)?.passed).toBe(false);
    expect(
      offPolicyCheck({ ...SETTINGS, offPolicy: 'required' }, comparison([-0.01, 0.02], 50))?.passed,
    ).toBe(false);
    expect(offPolicyCheck({ ...SETTINGS, offPolicy: 'off' }, comparison([-0.03, -0.01]))).toBeUndefined();
  });
});

/** True click-through of the 8 items of every carousel; no position effect. */
const CTR = [0.02, 0.04, 0.06, 0.09, 0.12, 0.16, 0.2, 0.26];
const T0 = Date.UTC(2026, 10, 21, 9, 0, 0);
/** The active model's p̂ of every item (float32, as records carry scores). */
const FLAT = Math.fround(0.08);

/**
 * Carousels of 4 slots from 8 candidates, dealt by Thompson sampling (prior strength 20, no counts) with the
 * active model's flat p̂ of 0.08, with their exact propensities; the candidate set carries `shadow`'s p̂ (the true
 * CTRs, or the reverse), and each shown item is clicked with its true CTR.
 */
function loggedCarousels(shadow: string, good: boolean, count: number, seed: number): LoggedCarousel[] {
  const rng = createRng(seed);
  const replay = new PolicyReplay();
  const probabilities = new Float64Array(4);
  const out: LoggedCarousel[] = [];
  for (let c = 0; c < count; c++) {
    const set: CandidateSet = {
      itemIds: CTR.map((_, i) => `item-${i}`),
      scores: CTR.map(() => FLAT),
      impressions: CTR.map(() => 0),
      clicks: CTR.map(() => 0),
      priorStrength: 20,
      temperature: 1,
      temperingImpressions: 500,
      epsilon: 0.1,
      ucbC: 1,
      shadowModelVersion: shadow,
      shadowScores: (good ? [...CTR] : [...CTR].reverse()).map(Math.fround),
    };
    replay.load(set, set.scores, loggedPolicy('thompson', set));
    const slate = Int32Array.from(replay.deal(4, rng).subarray(0, 4));
    replay.probabilities(slate, 4, rng, probabilities);
    const clicks = Array.from(slate, (i) => (rng.next() < CTR[i] ? 1 : 0));
    out.push({
      requestId: `${shadow}-${c}`,
      userId: `u-${c % 30}`,
      timestamp: T0 + c * 1000,
      policy: 'thompson',
      modelVersion: 'default-1',
      shadowPolicy: null,
      items: Array.from(slate, (i, s) => ({
        itemId: set.itemIds[i],
        slot: s,
        score: FLAT,
        propensity: probabilities[s],
        shadowPropensity: null,
      })),
      candidates: set,
      clicks,
      conversions: clicks.map(() => 0),
      watchSeconds: clicks.map(() => 0),
    });
  }
  return out;
}

const REQUEST = { active: 'default-1', confidence: 0.95 };

describe("the gate's shadow test of a candidate model", () => {
  it('passes a candidate model whose p̂ favour the clicked items and refuses one whose p̂ avoid them', () => {
    const better = compareShadowModel(loggedCarousels('cand-1', true, 1500, 17), {
      ...REQUEST,
      candidate: 'cand-1',
    });
    expect(better).not.toBeNull();
    expect(better!.ci[0]).toBeGreaterThan(0);
    expect(better!.method).toMatch(/^DR of policy=thompson,model=cand-1 over 1500 carousels/);
    expect(evaluateGate(EVIDENCE, 'default-1', SETTINGS, better).passed).toBe(true);

    const worse = compareShadowModel(loggedCarousels('cand-2', false, 1500, 18), {
      ...REQUEST,
      candidate: 'cand-2',
    });
    expect(worse!.ci[1]).toBeLessThan(0);
    const decision = evaluateGate(EVIDENCE, 'default-1', SETTINGS, worse);
    expect(decision.passed).toBe(false);
    expect(decision.checks.find((c) => c.name === 'off-policy')?.detail).toMatch(
      /DR of policy=thompson,model=cand-2/,
    );
  });

  it('finds nothing for a candidate that never scored in shadow, or beside another active model', () => {
    const logged = loggedCarousels('cand-3', true, 50, 19);
    expect(compareShadowModel(logged, { ...REQUEST, candidate: 'cand-9' })).toBeNull();
    expect(compareShadowModel(logged, { ...REQUEST, active: 'default-0', candidate: 'cand-3' })).toBeNull();
  });
});

describe('the shadow-test estimator over the archive', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'croupier-shadow-gate-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** The carousels as the gateway logs them (Carousel records with candidate sets, then their Click records). */
  async function writeArchive(carousels: readonly LoggedCarousel[]): Promise<void> {
    const records: ArchiveRecord[] = [];
    for (const c of carousels) {
      records.push(
        clickstreamRecord(records.length, c.timestamp, 'Carousel', {
          ...SAMPLE_EVENTS.Carousel,
          eventId: `e-${c.requestId}`,
          requestId: c.requestId,
          userId: c.userId,
          modelVersion: c.modelVersion,
          experiment: null,
          variant: null,
          shadowPolicy: null,
          timestamp: c.timestamp,
          items: c.items.map((item) => ({ ...item, shadowSlot: null, features: null })),
          candidates: c.candidates,
        }),
      );
      c.clicks.forEach((clicked, s) => {
        if (clicked === 0) return;
        records.push(
          clickstreamRecord(records.length, c.timestamp + 2000, 'Click', {
            ...SAMPLE_EVENTS.Click,
            eventId: `k-${c.requestId}-${s}`,
            requestId: c.requestId,
            userId: c.userId,
            itemId: c.items[s].itemId,
            slot: s,
            timestamp: c.timestamp + 2000,
          }),
        );
      });
    }
    await writeClickstreamArchive(root, records);
  }

  it('reads the carousels the candidate scored in shadow and compares them as croupier shadow does', async () => {
    const carousels = loggedCarousels('cand-4', true, 600, 21);
    await writeArchive(carousels);
    const attributionSeconds = 60;
    const comparison = await shadowTestEstimator({
      archive: createLocalFileSystem(root),
      attributionSeconds,
      memoryLimit: '256MB',
      tempDir: '',
    }).compare({ candidate: 'cand-4', active: 'default-1', fromMs: T0, confidence: 0.95 });
    // The last minute of carousels waits for its clicks.
    const settled = carousels.filter(
      (c) => c.timestamp + attributionSeconds * 1000 <= carousels[599].timestamp,
    );
    expect(comparison).toEqual(compareShadowModel(settled, { ...REQUEST, candidate: 'cand-4' }));
    expect(comparison!.ci[0]).toBeGreaterThan(0);
  }, 60_000);
});
