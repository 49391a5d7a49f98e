/**
 * The holdback of a promotion: a share of users, split by a salted hash of the user id, stays on the previous
 * model while the watch looks (its concurrent control). The registry writes it with the promotion and ends it
 * when the watch keeps the promotion or the registry rolls back; the scorer and the decider serve those users
 * with the previous version and say so in the decision's model version (which the Carousel record logs).
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDecider } from '../../src/decision/decider.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { promoteVersion, recordWatchKept, rollbackActive } from '../../src/models/registry-writer.ts';
import type { WatchLook } from '../../src/models/watch.ts';
import { loadFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { readManifest } from '../../src/scoring/model-registry.ts';
import { createOnnxScorer } from '../../src/scoring/onnx-scorer.ts';
import { memoryView, NOW, pool, tempRegistry, writeManifest, writeModel } from '../decision/support.ts';

const spec = await loadFeatureSpec('models/feature-spec.json');
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const USERS = Array.from({ length: 2000 }, (_, i) => `user-${i}`);

/** A registry with `old` (p̂ = σ(−2) on a zero row) active and `new` (p̂ = σ(0)) beside it. */
async function twoModels(): Promise<string> {
  const dir = await tempRegistry();
  const previous = await writeModel(dir, spec, 'old', 0, -2);
  const next = await writeModel(dir, spec, 'new', 0, 0);
  await writeManifest(dir, { active: 'old', models: [previous, next] });
  return dir;
}

function keptLook(): WatchLook {
  const side = { from: '', to: '', carousels: 0, clickedCarousels: 0, items: 0, clicks: 0 };
  return {
    at: new Date().toISOString(),
    promotion: { at: '', from: 'old', to: 'new' },
    control: { kind: 'holdback', percent: 20 },
    newModel: { version: 'new', ...side },
    previous: { version: 'old', ...side },
    test: null,
    verdict: 'keep',
    reason: 'a significant gain',
  };
}

describe('a promotion with a holdback', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await twoModels();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the share of users asked for on the previous model, each user on one side, until the watch keeps it', async () => {
    const event = await promoteVersion(dir, 'new', 'the gate passed', undefined, 20);
    expect(event.holdback).toMatchObject({ version: 'old', percent: 20 });
    const manifest = await readManifest(dir);
    expect(manifest.active).toBe('new');
    expect(manifest.holdback).toEqual(event.holdback);

    const scorer = await createOnnxScorer({ registryDir: dir, logger: silentLogger() });
    try {
      expect(scorer.holdback).toEqual(event.holdback);
      const row = new Float32Array(spec.width);
      const sideOf = new Map<string, string>();
      for (const userId of USERS) {
        const { scores, modelVersion } = await scorer.score(row, 1, userId);
        expect(scores[0]).toBeCloseTo(sigmoid(modelVersion === 'old' ? -2 : 0), 5);
        sideOf.set(userId, modelVersion);
      }
      const held = [...sideOf.values()].filter((v) => v === 'old').length / USERS.length;
      expect(held).toBeGreaterThan(0.17);
      expect(held).toBeLessThan(0.23);
      for (const userId of USERS.slice(0, 200)) {
        expect((await scorer.score(row, 1, userId)).modelVersion).toBe(sideOf.get(userId));
      }
      // Without a user (a bench, a batch job) the active model scores.
      expect((await scorer.score(row, 1)).modelVersion).toBe('new');

      await recordWatchKept(dir, keptLook());
      expect((await readManifest(dir)).holdback).toBeUndefined();
      await scorer.reload();
      expect(scorer.holdback).toBeNull();
      for (const userId of USERS.slice(0, 500)) {
        expect((await scorer.score(row, 1, userId)).modelVersion).toBe('new');
      }
    } finally {
      await scorer.close();
    }
  });

  it("loads the holdback's model again when its file changed under the same version name", async () => {
    await promoteVersion(dir, 'new', 'the gate passed', undefined, 20);
    const scorer = await createOnnxScorer({ registryDir: dir, logger: silentLogger() });
    try {
      const row = new Float32Array(spec.width);
      let held: string | undefined;
      for (const userId of USERS) {
        if ((await scorer.score(row, 1, userId)).modelVersion === 'old') {
          held = userId;
          break;
        }
      }
      expect(held).toBeDefined();
      const scoreOf = async () => (await scorer.score(row, 1, held)).scores[0];
      expect(await scoreOf()).toBeCloseTo(sigmoid(-2), 5);
      // The holdback's file is written again with another bias; the manifest is not touched.
      await writeModel(dir, spec, 'old', 0, 1);
      await scorer.reload();
      expect((await scorer.score(row, 1, held)).modelVersion).toBe('old');
      expect(await scoreOf()).toBeCloseTo(sigmoid(1), 5);
    } finally {
      await scorer.close();
    }
  });

  it('draws a new split for each promotion and ends it with a rollback', async () => {
    const first = await promoteVersion(dir, 'new', 'first', undefined, 20);
    const back = await rollbackActive(dir, 'by hand');
    expect(back.to).toBe('old');
    const afterRollback = await readManifest(dir);
    expect(afterRollback.active).toBe('old');
    expect(afterRollback.holdback).toBeUndefined();
    const second = await promoteVersion(dir, 'new', 'second', undefined, 20);
    expect(second.holdback!.salt).not.toBe(first.holdback!.salt);
    const history = JSON.parse(await readFile(join(dir, 'history.json'), 'utf8')).events;
    expect(history.map((e: { action: string }) => e.action)).toEqual(['promote', 'rollback', 'promote']);
  });

  it('promotes without a holdback when its share is 0', async () => {
    const event = await promoteVersion(dir, 'new', 'the gate passed', undefined, 0);
    expect(event.holdback).toBeUndefined();
    expect((await readManifest(dir)).holdback).toBeUndefined();
  });

  it('refuses a manifest whose holdback names the active model or a version it does not have', async () => {
    const manifest = await readManifest(dir);
    for (const version of ['old', 'missing']) {
      await writeManifest(dir, { ...manifest, holdback: { version, percent: 10, salt: 's' } });
      await expect(readManifest(dir)).rejects.toThrowError(/holdback\.version/);
    }
  });

  it('deals the holdback users carousels scored by the previous model, logged with its version', async () => {
    await promoteVersion(dir, 'new', 'the gate passed', undefined, 30);
    const scorer = await createOnnxScorer({ registryDir: dir, logger: silentLogger() });
    const decider = createDecider({
      scorer,
      policy: 'greedy',
      priorStrength: 20,
      logger: silentLogger(),
      now: () => NOW,
    });
    try {
      const view = memoryView(pool(20));
      const versions = new Map<string, number>();
      for (const userId of USERS.slice(0, 400)) {
        const decision = await decider.decide(
          {
            requestId: `r-${userId}`,
            userId,
            slots: 5,
            context: { device: 'mobile', country: null, page: null },
          },
          view,
        );
        const expected = (await scorer.score(new Float32Array(spec.width), 1, userId)).modelVersion;
        expect(decision.modelVersion).toBe(expected);
        versions.set(decision.modelVersion, (versions.get(decision.modelVersion) ?? 0) + 1);
      }
      expect(versions.get('old')).toBeGreaterThan(80);
      expect(versions.get('new')).toBeGreaterThan(200);
    } finally {
      await decider.close();
      await scorer.close();
    }
  });
});
