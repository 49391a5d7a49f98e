/**
 * The promotion gate's off-policy check: the candidate's policy estimated (SNIPS) from carousels logged with
 * it as the shadow, against the active policy's own log; refused when it is worse with 95 % confidence, noted
 * and passed when no such carousels exist (unless required), and read from a real archive with DuckDB.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { evaluateGate, type GateSettings, type OffPolicyComparison } from '../../src/models/gate.ts';
import type { GateEvidence } from '../../src/models/lineage.ts';
import { createRng } from '../../src/stats/rng.ts';
import { shadowLogEstimator } from '../../src/train/shadow-log.ts';
import { type FixtureRecord, writeClickstreamFile } from './support/clickstream-fixture.ts';

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
    expect(missing?.detail).toMatch(/no decisions were logged with the candidate as the shadow/);
    expect(offPolicyCheck({ ...SETTINGS, offPolicy: 'required' }, null)?.passed).toBe(false);
    expect(
      offPolicyCheck({ ...SETTINGS, offPolicy: 'required' }, comparison([-0.01, 0.02], 50))?.passed,
    ).toBe(false);
    expect(offPolicyCheck({ ...SETTINGS, offPolicy: 'off' }, comparison([-0.03, -0.01]))).toBeUndefined();
  });
});

describe('the shadow-log estimator over the archive', () => {
  let dir: string;
  const T0 = Date.UTC(2026, 10, 21, 9, 0, 0);

  /**
   * Carousels of 5 items dealt by default-1 with `shadow` as the shadow: each item in its slot with logged
   * propensity 0.5; a good item is clicked with 0.25, a poor one with 0.02; the shadow's probability of the
   * shown item is `good` for good items and 1 − `good` for poor ones.
   */
  async function archive(name: string, shadow: string, good: number): Promise<string> {
    const root = path.join(dir, name);
    const rng = createRng(17);
    const records: FixtureRecord[] = [];
    for (let c = 0; c < 1500; c++) {
      const t = T0 + c * 1_000;
      const requestId = `${name}-${c}`;
      const quality = Array.from({ length: 5 }, () => rng.next() < 0.5);
      const items = quality.map((isGood, slot) => ({
        itemId: `item-${c}-${slot}`,
        slot,
        score: 0.05,
        propensity: 0.5,
        features: null,
        shadowPropensity: isGood ? good : 1 - good,
      }));
      records.push({
        type: 'Carousel',
        eventId: `e-${requestId}`,
        requestId,
        userId: `u-${c % 30}`,
        timestamp: t,
        modelVersion: 'default-1',
        shadowPolicy: shadow,
        featureSpecHash: 'sha256:x',
        items,
      });
      items.forEach((item, slot) => {
        if (rng.next() < (quality[slot] ? 0.25 : 0.02)) {
          records.push({
            type: 'Click',
            eventId: `k-${requestId}-${slot}`,
            requestId,
            userId: `u-${c % 30}`,
            itemId: item.itemId,
            timestamp: t + 2_000,
          });
        }
      });
    }
    const duckdb = await DuckDBInstance.create(':memory:');
    try {
      await writeClickstreamFile(duckdb, root, 0, 0, records);
    } finally {
      duckdb.closeSync();
    }
    return root;
  }

  const estimate = async (root: string, candidate: string) =>
    shadowLogEstimator({
      archive: createLocalFileSystem(root),
      attributionSeconds: 60,
      memoryLimit: '256MB',
      tempDir: '',
    }).compare({ candidate, active: 'default-1', fromMs: T0, confidence: 0.95 });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'croupier-shadow-gate-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('estimates a shadow that favours the clicked items above the active policy, and one that avoids them below', async () => {
    const better = await estimate(await archive('better', 'cand-1', 0.9), 'cand-1');
    expect(better).not.toBeNull();
    expect(better!.ci[0]).toBeGreaterThan(0);
    expect(evaluateGate(EVIDENCE, 'default-1', SETTINGS, better).passed).toBe(true);

    const worse = await estimate(await archive('worse', 'thompson@cand-2', 0.1), 'cand-2');
    expect(worse!.ci[1]).toBeLessThan(0);
    const decision = evaluateGate(EVIDENCE, 'default-1', SETTINGS, worse);
    expect(decision.passed).toBe(false);
    expect(decision.checks.find((c) => c.name === 'off-policy')?.detail).toMatch(/SNIPS/);
  }, 60_000);

  it('finds nothing for a candidate that never ran as the shadow', async () => {
    expect(await estimate(await archive('other', 'cand-3', 0.9), 'cand-9')).toBeNull();
  }, 60_000);
});
