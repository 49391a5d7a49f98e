/**
 * Proof that retraining learns: the simulator plays a seeded world through the real gateway while `default-1`
 * scores, dealt by the gateway's default policy (tempered Thompson sampling); the archive keeps the carousels
 * with their feature rows; `croupier train` trains on that archive; the trained model is promoted with a holdback
 * of half the users on `default-1`; then sessions the training never saw (session seeds fixed in advance) of the
 * same world are played, so both models deal at the same time to users split at random, sharing one state.
 *
 * The world is category loyalty (support/category-loyalty.json): each user likes categories of their own, and an
 * item's appeal to a user is mostly that user's taste for its category. The segment's arm counts reveal the
 * segment's taste, not the user's; the categories of the user's recent clicks (`affinity.recent_category_share`)
 * do, and `default-1`'s hand-set weights underrate them. It is a world where `default-1` is wrong in a way the
 * logged feature rows can correct.
 *
 * On those carousels, for every session seed:
 * - the trained model has a lower log loss and a higher ROC AUC than `default-1` on the same logged feature rows,
 *   each model's p̂ moved to the logged slot by its offset fitted on the training rows (as the gate compares:
 *   position-neutral scores against clicks at the slots an exploiting policy chose favour the model whose scores
 *   track those slots);
 * - the simulated click-through of the serving policy is higher with the trained model's p̂ than with
 *   `default-1`'s on the same decisions, by at least MIN_CTR_GAIN of `default-1`'s and by more than three standard
 *   errors: every carousel the trained model dealt logs its candidate set with both models' p̂ (`default-1` scores
 *   it in shadow), the gateway's Thompson sampling is replayed from the logged counts with each, and the world's
 *   truth b(slot)·q(user, item) gives each slate's expected clicks — the same users, candidates, counts and
 *   random draws for both (support/replayed-ctr.ts).
 * The click-through of the carousels each side of the split dealt, raw and as a share of the best slates', is
 * measured too (LEARNS_REPORT keeps every figure; README, Retraining): which users fall on which side moves the
 * raw figure by as much as the models do, so it is reported, not asserted per seed.
 *
 * The trainer holds out the exposure counts and the item's age (train.heldOutColumns): the counts measure the
 * logging policy (README, Retraining), and every item of the simulated catalog enters it when `croupier simulate`
 * starts, so its age is the clock of the run, the same for every candidate — a trend the fresh sessions, whose
 * catalog is stamped anew, do not continue.
 *
 * The world's parameters, the traffic's lengths and MIN_CTR_GAIN were set on session seeds 101, 202 and 303; the
 * session seeds 404, 505 and 606 were fixed before any result of this world on them was looked at
 * (LEARNS_SESSION_SEEDS overrides them; LEARNS_SCENARIO plays another world).
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
import type { CandidateSet } from '../../src/domain/candidate-set.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { promoteVersion, readLineage, rollbackActive } from '../../src/models/registry-writer.ts';
import { loadFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { logLoss, rocAuc } from '../../src/stats/index.ts';
import { openArchiveInput } from '../../src/train/archive-input.ts';
import { scoreWithOnnx } from '../../src/train/onnx-export.ts';
import { atLoggedSlot, type SlotOffset } from '../../src/train/position.ts';
import { buildTrainingSet, openClickstream, sqlString } from '../../src/train/training-set.ts';
import { type ReplayedDecision, replayedCtr } from './support/replayed-ctr.ts';

const exec = promisify(execFile);
const SEED = '3';
/** The proof's world (support/category-loyalty.json; LEARNS_SCENARIO: another scenario's name or file). */
const SCENARIO =
  process.env.LEARNS_SCENARIO ?? path.join(import.meta.dirname, 'support', 'category-loyalty.json');
/** Sessions the training never saw, fixed before any result was looked at. */
const SESSION_SEEDS = (process.env.LEARNS_SESSION_SEEDS ?? '404,505,606').split(',');
/** Seconds of training traffic (with 60, one training run's model dealt no better on seed 101), and of each fresh
 * session seed's traffic. */
const TRAIN_SECONDS = 120;
const SESSION_SECONDS = 40;
/** The least relative gain of the replayed click-through asserted on every session seed (half the least of six on
 * the tuning seeds, two training runs: +6.1 % to +9.9 %). */
const MIN_CTR_GAIN = 0.03;
/** Columns the trainer does not learn from (see the file comment). */
const HELD_OUT = ['item.log1p_age_days', 'item.log1p_impressions', 'user.log1p_impressions'];

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
      SCENARIO,
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
        // default-1 scores every logged candidate set in shadow, so the trained model's decisions carry both p̂.
        model: { registryDir: registry, shadowVersion: 'default-1' },
        log: { candidateSampleRate: 1 },
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
    // The trained model's decisions with their candidate sets (both models' p̂: default-1 scored them in shadow).
    const decisions: ReplayedDecision[] = [];
    try {
      const reader = await connection.runAndReadAll(
        `SELECT requestId, userId, modelVersion, len(items)::INTEGER AS slots, candidates
           FROM clickstream WHERE _schema = ${sqlString('croupier.events.Carousel')}
           AND epoch_ms(timestamp) >= ${fromMs} AND epoch_ms(timestamp) < ${toMs} ORDER BY timestamp, requestId`,
      );
      for (const row of reader.getRowObjectsJS() as {
        requestId: string;
        userId: string;
        modelVersion: string;
        slots: number;
        candidates: CandidateSet | null;
      }[]) {
        dealt.set(row.requestId, { userId: row.userId, modelVersion: row.modelVersion });
        if (row.modelVersion === 'trained-1' && row.candidates !== null) {
          decisions.push({ userId: row.userId, slots: row.slots, candidates: row.candidates });
        }
      }
    } finally {
      connection.closeSync();
      db.closeSync();
    }
    const world = createWorld(loadScenario(SCENARIO), { seed: Number(SEED) });
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
    return { spec, set, versions, expected, oracle, replayed: replayedCtr(world, decisions) };
  }

  it('has a lower log loss, a higher AUC and a higher simulated click-through than default-1 on fresh sessions of the same world', async () => {
    await simulate(TRAIN_SECONDS);
    await archiveSettled();

    const trained = await croupier(
      'train',
      '--archive',
      archiveDir,
      '--model-version',
      'trained-1',
      '--set',
      `train.heldOutColumns=${JSON.stringify(HELD_OUT)}`,
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
      await simulate(SESSION_SECONDS, sessionSeed);
      await archiveSettled();
      const { spec, set, versions, expected, oracle, replayed } = await freshRows(freshFrom, Date.now());
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
        // The serving policy replayed on the trained model's decisions with each model's p̂ (same draws).
        replayedCtr: {
          decisions: replayed.decisions,
          default: replayed.shadow,
          trained: replayed.serving,
          difference: replayed.difference,
          standardError: replayed.standardError,
        },
        // The carousels each side of the split dealt: expected clicks per shown item, and as a share of the
        // best slates' for the same users and moments.
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
      expect(replayed.decisions, "decisions with both models' p̂").toBeGreaterThan(500);
      expect(
        replayed.difference / replayed.shadow,
        `replayed CTR gain, session seed ${sessionSeed}`,
      ).toBeGreaterThan(MIN_CTR_GAIN);
      expect(
        replayed.difference,
        `replayed CTR gain in standard errors, session seed ${sessionSeed}`,
      ).toBeGreaterThan(3 * replayed.standardError);
      // Back to default-1 alone, for the next session seed's promotion.
      await rollbackActive(registry, 'the next session seed starts from default-1 alone');
    }
  }, 900_000);
});
