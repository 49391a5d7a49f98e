/**
 * Proof that retraining learns: the simulator plays a seeded world through the real gateway while `default-1`
 * scores, dealt by the gateway's default policy (tempered Thompson sampling); the archive keeps the carousels
 * with their feature rows; `croupier train` trains on that archive; the trained model is promoted with a holdback
 * of half the users on `default-1`; then sessions the training never saw (session seeds fixed in advance) of the
 * same world are played, so both models deal at the same time to users split at random, sharing one state. On
 * those carousels the trained model has a lower log loss and a higher ROC AUC than `default-1` on the same logged
 * feature rows, each model's p̂ moved to the logged slot by its offset fitted on the training rows (as the gate
 * compares: position-neutral scores against clicks at the slots an exploiting policy chose favour the model whose
 * scores track those slots). The expected click-through of the carousels each model dealt, by the world's true
 * b(slot)·q(user, item), and its share of the best slates' are measured too (LEARNS_REPORT keeps them): the
 * trained model does not yet deal the better carousels on every seed (README, Retraining), so they are not
 * asserted.
 *
 * `npm test` plays session seed 101; `npm run proof:learns` plays 101, 202 and 303 (LEARNS_SESSION_SEEDS).
 */
import { execFile } from 'node:child_process';
import { appendFile, copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../simulator/client/local-stack.ts';
import { loadScenario } from '../../simulator/world/scenario.ts';
import { createWorld } from '../../simulator/world/world.ts';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { type ArchiveHandle, startArchive } from '../../src/archive/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { promoteVersion, readLineage, rollbackActive } from '../../src/models/registry-writer.ts';
import { loadFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { logLoss, rocAuc } from '../../src/stats/index.ts';
import { openArchiveInput } from '../../src/train/archive-input.ts';
import { scoreWithOnnx } from '../../src/train/onnx-export.ts';
import { atLoggedSlot, type SlotOffset } from '../../src/train/position.ts';
import { buildTrainingSet, openClickstream, sqlString } from '../../src/train/training-set.ts';

const exec = promisify(execFile);
const SEED = '3';
/** Sessions the training never saw, fixed before any result was looked at. */
const SESSION_SEEDS = (process.env.LEARNS_SESSION_SEEDS ?? '101').split(',');

describe('a model trained on the archive of simulated traffic', () => {
  let dir: string;
  let registry: string;
  let archiveDir: string;
  let stack: LocalStack;
  let archive: ArchiveHandle | undefined;

  const croupier = (...args: string[]) =>
    exec(
      process.execPath,
      ['bin/croupier.js', ...args, '--set', 'log.level=warn', '--set', `model.registryDir=${registry}`],
      { timeout: 300_000, maxBuffer: 1 << 24 },
    );

  const simulate = (seconds: number, sessionSeed?: string) =>
    croupier(
      'simulate',
      'steady-state',
      '--url',
      stack.wsUrl,
      '--brokers',
      stack.brokers.join(','),
      '--registry',
      stack.registryUrl,
      '--duration',
      String(seconds),
      '--rate',
      '60',
      '--clients',
      '6',
      '--seed',
      SEED,
      ...(sessionSeed === undefined ? [] : ['--session-seed', sessionSeed]),
    );

  /** Waits until the archive has committed everything it consumed (no change for a few seconds, no lag). */
  async function archiveSettled(): Promise<void> {
    let last = -1;
    let stableSince = Date.now();
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      const m = archive!.metrics();
      const lag = Object.values(m.lag).reduce((s, x) => s + x, 0);
      if (m.records !== last) {
        last = m.records;
        stableSince = Date.now();
      } else if (lag === 0 && Date.now() - stableSince > 5_000) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'croupier-learns-'));
    registry = path.join(dir, 'models');
    archiveDir = path.join(dir, 'archive');
    await mkdir(registry);
    for (const file of ['manifest.json', 'default-1.onnx', 'feature-spec.json']) {
      await copyFile(path.join('models', file), path.join(registry, file));
    }
    stack = await startLocalStack(
      {
        gateway: { port: 0 },
        kafka: { partitions: 2 },
        stream: { maxBatchMs: 10, commitIntervalMs: 200, sessionTimeoutMs: 3000 },
        // The default policy (tempered Thompson sampling) deals the traffic; the registry is watched, so the
        // promotion and its holdback reach the gateway as they would in production.
        model: { registryDir: registry },
        archive: { uri: archiveDir, rotateIntervalMs: 5_000, idleRotateMs: 2_000, compactIntervalMs: 0 },
      },
      silentLogger(),
    );
    archive = await startArchive(
      stack.config,
      { brokers: stack.brokers, registryUrl: stack.registryUrl },
      silentLogger(),
    );
  }, 120_000);

  afterAll(async () => {
    await archive?.close();
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The fresh rows of [fromMs, toMs) with their labels, slots, model version and the world's expected clicks. */
  async function freshRows(fromMs: number, toMs: number) {
    const spec = await loadFeatureSpec(path.join(registry, 'feature-spec.json'));
    const input = await openArchiveInput(createLocalFileSystem(archiveDir), {
      fromMs,
      toMs,
      attributionWindowMs: 1_800_000,
    });
    const set = await buildTrainingSet({
      files: input.localPaths,
      fromMs,
      toMs,
      attributionWindowSeconds: 1800,
      holdoutFraction: 0.5,
      featureSpecHash: spec.hash,
      width: spec.width,
      memoryLimit: '256MB',
      tempDir: '',
    });
    // Who saw each carousel and which model dealt it.
    const { db, connection } = await openClickstream({
      files: input.localPaths,
      memoryLimit: '256MB',
      tempDir: '',
    });
    const dealt = new Map<string, { userId: string; modelVersion: string }>();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT requestId, userId, modelVersion FROM clickstream WHERE _schema = ${sqlString('croupier.events.Carousel')}
           AND epoch_ms(timestamp) >= ${fromMs} AND epoch_ms(timestamp) < ${toMs}`,
      );
      for (const row of reader.getRowObjectsJS() as Record<string, string>[]) {
        dealt.set(row.requestId, { userId: row.userId, modelVersion: row.modelVersion });
      }
    } finally {
      connection.closeSync();
      db.closeSync();
    }
    const world = createWorld(loadScenario('steady-state'), { seed: Number(SEED) });
    const users = new Map(world.users.map((u) => [u.userId, u]));
    const items = new Map(world.items.map((i) => [i.itemId, i]));
    const expected = new Float64Array(set.rows);
    // The best slate's expected clicks, once per carousel (on its slot-0 row): what the user could have clicked.
    const oracle = new Float64Array(set.rows);
    const live = world.liveItems();
    const versions: string[] = [];
    for (let r = 0; r < set.rows; r++) {
      const carousel = dealt.get(set.requestIds[r])!;
      const user = users.get(carousel.userId);
      // The simulator's probe, which waits for the item pool, is no user of the world.
      versions.push(user === undefined ? '' : carousel.modelVersion);
      if (user === undefined) continue;
      expected[r] = world.model.clickProbability(user, items.get(set.itemIds[r])!, set.slots[r]);
      if (set.slots[r] === 0) oracle[r] = world.model.oracleClicks(user, live, world.slots);
    }
    return { spec, set, versions, expected, oracle };
  }

  it('has a lower log loss and a higher AUC than default-1 on fresh sessions of the same world, dealt by both', async () => {
    // Two minutes of traffic: with one (about 5,000 rows) the trained model's AUC margin over default-1 was within
    // the noise of the gateway's exploration, and it lost in one of two full runs.
    await simulate(120);
    await archiveSettled();

    const trained = await croupier(
      'train',
      '--archive',
      archiveDir,
      '--model-version',
      'trained-1',
      '--json',
    );
    const report = JSON.parse(trained.stdout);
    expect(report.parity.passed).toBe(true);
    expect(report.rows.rows).toBeGreaterThan(5_000);
    // Each model's move from the neutral slot to a logged one, fitted on the training rows (never the fresh ones).
    const offsets = (await readLineage(registry, 'trained-1'))!.metrics.slotOffsets as {
      candidate: SlotOffset;
      active: SlotOffset;
    };

    for (const sessionSeed of SESSION_SEEDS) {
      // Half the users stay on default-1 (a holdback drawn afresh for every promotion).
      await promoteVersion(registry, 'trained-1', 'the learning proof', undefined, 50);
      await new Promise((r) => setTimeout(r, 1_000)); // the gateway reloads the manifest
      const freshFrom = Date.now();
      await simulate(40, sessionSeed);
      await archiveSettled();
      const { spec, set, versions, expected, oracle } = await freshRows(freshFrom, Date.now());
      expect(set.counts.clicks).toBeGreaterThan(50);

      const names = { input: spec.input, output: spec.output };
      const score = async (file: string) =>
        scoreWithOnnx(await readFile(path.join(registry, file)), set.features, spec.width, names);
      const [defaultScores, trainedScores] = await Promise.all([
        score('default-1.onnx'),
        score('trained-1.onnx'),
      ]);
      const labels = Array.from(set.labels);
      const before = atLoggedSlot(defaultScores, set.slots, offsets.active);
      const after = atLoggedSlot(trainedScores, set.slots, offsets.candidate);
      const figures = {
        sessionSeed,
        rows: set.rows,
        logLoss: { default: logLoss(labels, before), trained: logLoss(labels, after) },
        auc: { default: rocAuc(labels, before), trained: rocAuc(labels, after) },
        asServedAuc: { default: rocAuc(labels, defaultScores), trained: rocAuc(labels, trainedScores) },
        expectedCtr: { default: 0, trained: 0 },
        oracleShare: { default: 0, trained: 0 },
      };

      const sums = (version: string) => {
        let clicks = 0;
        let best = 0;
        let n = 0;
        versions.forEach((v, r) => {
          if (v !== version) return;
          clicks += expected[r];
          best += oracle[r];
          n++;
        });
        expect(n).toBeGreaterThan(1_000);
        return { ctr: clicks / n, share: clicks / best };
      };
      const [d, t] = [sums('default-1'), sums('trained-1')];
      figures.expectedCtr = { default: d.ctr, trained: t.ctr };
      figures.oracleShare = { default: d.share, trained: t.share };
      // `npm run proof:learns` keeps the figures (README, Retraining).
      if (process.env.LEARNS_REPORT)
        await appendFile(process.env.LEARNS_REPORT, `${JSON.stringify(figures)}\n`);
      expect(figures.logLoss.trained, `log loss, session seed ${sessionSeed}`).toBeLessThan(
        figures.logLoss.default,
      );
      expect(figures.auc.trained, `AUC, session seed ${sessionSeed}`).toBeGreaterThan(figures.auc.default);
      // Back to default-1 alone, for the next session seed's promotion.
      await rollbackActive(registry, 'the next session seed starts from default-1 alone');
    }
  }, 900_000);
});
