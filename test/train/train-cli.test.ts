import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFeatureSpec } from '../../src/scoring/feature-spec.ts';
import { readManifest } from '../../src/scoring/model-registry.ts';
import { writeSyntheticArchive } from './support/synthetic-archive.ts';

const exec = promisify(execFile);
const T0 = Date.UTC(2026, 10, 20, 8, 0, 0);

interface Cli {
  code: number;
  stdout: string;
  stderr: string;
}

describe('croupier train and croupier models', () => {
  let dir: string;
  let registry: string;
  let archive: string;

  async function croupier(...args: string[]): Promise<Cli> {
    try {
      const { stdout, stderr } = await exec(
        'node',
        ['bin/croupier.js', ...args, '--set', `model.registryDir=${registry}`],
        { maxBuffer: 1 << 24 },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'croupier-train-cli-'));
    registry = path.join(dir, 'models');
    archive = path.join(dir, 'archive');
    await mkdir(registry);
    for (const file of ['manifest.json', 'default-1.onnx', 'feature-spec.json']) {
      await copyFile(path.join('models', file), path.join(registry, file));
    }
    const spec = await loadFeatureSpec(path.join(registry, 'feature-spec.json'));
    // 2,400 carousels of 6 items over two hours: 14,400 shown items.
    await writeSyntheticArchive({
      root: archive,
      spec,
      carousels: 2400,
      itemsPerCarousel: 6,
      startMs: T0,
      stepMs: 3_000,
      seed: 5,
    });
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trains a version with its lineage, beats default-1 on the holdout, and leaves it a candidate', async () => {
    const run = await croupier('train', '--archive', archive, '--model-version', 'lr-a', '--json');
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.parity.passed).toBe(true);
    expect(report.parity.maxAbsDiff).toBeLessThan(1e-5);
    expect(report.rows.rows).toBe(14_400);
    expect(report.rows.holdout + report.rows.fit).toBe(14_400);
    const { candidate, active, activeVersion } = report.metrics;
    expect(activeVersion).toBe('default-1');
    expect(candidate.logLoss).toBeLessThan(active.logLoss);
    expect(candidate.auc.auc).toBeGreaterThan(active.auc.auc);
    expect(candidate.ranking.carousels).toBeGreaterThan(0);

    const manifest = await readManifest(registry);
    expect(manifest.active).toBe('default-1');
    const entry = manifest.models.find((m) => m.version === 'lr-a');
    expect(entry?.featureSpecHash).toBe(
      (await loadFeatureSpec(path.join(registry, 'feature-spec.json'))).hash,
    );

    const lineage = JSON.parse(await readFile(path.join(registry, 'lr-a.lineage.json'), 'utf8'));
    expect(lineage.archive.files.length).toBe(4); // two partitions × two hours
    for (const file of lineage.archive.files) {
      const bytes = await readFile(path.join(archive, file.path));
      expect(file.sha256).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
      expect(file.bytes).toBe(bytes.length);
    }
    expect(lineage.archive.offsetRanges.map((r: { partition: number }) => r.partition)).toEqual([0, 1]);
    expect(lineage.window.attributionWindowSeconds).toBe(1800);
    expect(lineage.seed).toBe(1);
    expect(lineage.codeVersion).toMatch(/^git:[0-9a-f]{40}|^croupier@/);
    expect(lineage.hyperParameters.l2).toBe(1e-4);
    expect(await readFile(path.join(registry, 'lr-a.reliability.svg'), 'utf8')).toMatch(/^<svg/);
  }, 120_000);

  it('promotes through the gate, shows the decision, and rolls back', async () => {
    const promote = await croupier('models', 'promote', 'lr-a');
    expect(promote.code, promote.stdout + promote.stderr).toBe(0);
    expect(promote.stdout).toMatch(/pass {2}log loss/);
    expect((await readManifest(registry)).active).toBe('lr-a');

    const show = await croupier('models', 'show', 'lr-a');
    expect(show.stdout).toMatch(/lr-a \(active\)/);
    expect(show.stdout).toMatch(/promote default-1 → lr-a: the gate passed/);

    const ls = await croupier('models', 'ls');
    expect(ls.stdout).toMatch(/\* lr-a/);

    const rollback = await croupier('models', 'rollback');
    expect(rollback.stdout).toMatch(/rolled back to default-1/);
    expect((await readManifest(registry)).active).toBe('default-1');
    const again = await croupier('models', 'rollback');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/CROUPIER_ERR_MODEL_PROMOTION: nothing to roll back to/);
  }, 120_000);

  it('keeps a candidate that does not beat the active model by the margin', async () => {
    expect((await croupier('models', 'promote', 'lr-a')).code).toBe(0);
    // Same data, same seed: the same model, so no gain over the active lr-a.
    const run = await croupier('train', '--archive', archive, '--model-version', 'lr-b', '--promote');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/kept lr-b as a candidate: log loss: .* the margin is 0\.00100/);
    expect((await readManifest(registry)).active).toBe('lr-a');
    const promote = await croupier('models', 'promote', 'lr-b');
    expect(promote.code).toBe(1);
    expect(promote.stdout).toMatch(/lr-b stays a candidate/);
  }, 120_000);

  it('refuses a model whose ONNX output misses the parity tolerance and adds nothing', async () => {
    const run = await croupier(
      'train',
      '--archive',
      archive,
      '--model-version',
      'lr-c',
      '--set',
      'train.parityTolerance=1e-15',
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/REFUSED lr-c: parity failed/);
    expect((await readManifest(registry)).models.map((m) => m.version)).not.toContain('lr-c');
  }, 120_000);

  it('refuses an unknown version and a bad time with what to do', async () => {
    const show = await croupier('models', 'show', 'nope');
    expect(show.stderr).toMatch(/CROUPIER_ERR_MODEL_VERSION_UNKNOWN: .*no version nope/);
    const bad = await croupier('train', '--archive', archive, '--from', 'yesterday-ish');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/ISO 8601 time or epoch milliseconds/);
  }, 60_000);
});
