/**
 * The dashboard's jobs report, read from a real run ledger in Redis and a model registry on disk: the last
 * training run with its candidate's metrics and the gate's decision, the promotion under watch, the last shadow
 * test, and each job's schedule from the config.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.ts';
import { configuredSchedules, jobsReportReader } from '../../src/gateway/jobs-report.ts';
import { createRunLedger, type RunRecord } from '../../src/jobs/ledger.ts';
import { promoteVersion } from '../../src/models/registry-writer.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 11, 6, 3, 0, 0);
let redis: TestRedis;
const temp = mkdtempSync(join(tmpdir(), 'croupier-jobs-report-'));
const registryDir = join(temp, 'models');

beforeAll(async () => {
  redis = await startTestRedis();
  cpSync(new URL('../../models', import.meta.url), registryDir, { recursive: true });
});

afterAll(async () => {
  await redis?.close();
  rmSync(temp, { recursive: true, force: true });
});

const run = (job: string, start: number, fields: Partial<RunRecord>): RunRecord => ({
  job,
  start,
  end: start + HOUR,
  status: 'succeeded',
  attempts: 1,
  owner: 'instance-a',
  startedAt: start + HOUR + 1000,
  finishedAt: start + HOUR + 9000,
  ...fields,
});

describe('the jobs report', () => {
  it('says there is no run yet, with the active model and the config schedules', async () => {
    const read = jobsReportReader({
      redis: redis.client,
      registryDir,
      schedules: configuredSchedules(parseConfig({ jobs: { watch: { enabled: false } } }).jobs),
    });
    const report = await read();
    expect(report.training).toEqual({
      schedule: 'every 10m',
      lastRun: null,
      activeModel: 'default-1',
      candidate: null,
      gate: null,
    });
    expect(report.watch.schedule).toBeNull();
    expect(report.watch.watching).toBeNull();
    expect(report.shadow).toEqual({ schedule: 'every 30m', lastRun: null });
  });

  it("shows the last run, its candidate's metrics, the gate's decision, the promotion under watch and the last shadow test", async () => {
    // A candidate in the registry, promoted by the gate, as croupier train --promote leaves it.
    const manifest = JSON.parse(readFileSync(join(registryDir, 'manifest.json'), 'utf8'));
    const metrics = { holdoutLogLoss: 0.4441, holdoutAuc: 0.832, logLossMinusActive: -0.0188 };
    manifest.models.push({ ...manifest.models[0], version: 'candidate-1', metrics });
    writeFileSync(join(registryDir, 'manifest.json'), JSON.stringify(manifest));
    await promoteVersion(registryDir, 'candidate-1', 'croupier train --promote: the gate passed');

    const ledger = createRunLedger(redis.client);
    const gate = ['pass parity: ONNX Runtime matches the trainer', 'pass log loss: better by 0.0188'];
    await ledger.put(run('train', T - 2 * HOUR, { status: 'failed', error: 'disk full' }));
    await ledger.put(run('train', T - HOUR, { result: { version: 'candidate-1', promoted: true, gate } }));
    // A later run that found nothing new to learn from: the last run, while the candidate stays the one before.
    await ledger.put(
      run('train', T, { result: { skipped: 'CROUPIER_ERR_TRAIN_NO_DATA: nothing in the window' } }),
    );
    await ledger.put(run('watch', T, { result: { status: 'continue', reason: 'not significant yet' } }));
    const summary = { report: '/data/shadow/x', carousels: 326, impressions: 1630, candidates: [] };
    await ledger.put(run('shadow', T, { result: summary }));

    const report = await jobsReportReader({
      redis: redis.client,
      registryDir,
      schedules: { train: 'every 10m', watch: 'every 1m', shadow: 'every 30m' },
    })();
    expect(report.training.lastRun?.start).toBe(T);
    expect(report.training.lastRun?.result?.skipped).toMatch(/NO_DATA/);
    expect(report.training.activeModel).toBe('candidate-1');
    expect(report.training.candidate).toEqual({ version: 'candidate-1', metrics });
    expect(report.training.gate).toEqual({ promoted: true, checks: gate });
    expect(report.watch.watching).toMatchObject({ from: 'default-1', to: 'candidate-1' });
    expect(report.watch.lastEvent).toMatchObject({ action: 'promote', to: 'candidate-1' });
    expect(report.watch.lastRun?.result).toEqual({ status: 'continue', reason: 'not significant yet' });
    expect(report.shadow.lastRun?.result).toEqual(summary);
  });
});
