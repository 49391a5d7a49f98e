/**
 * The periodic jobs croupier schedules, as the CLI wires them: `train` runs `croupier train --from --to
 * [--promote] --json` in a child process for its data interval (so training never blocks a gateway's event
 * loop), with the parent's archive, model and train settings; `watch` looks at the last promotion; `shadow` runs
 * `croupier shadow` over the recent archive and keeps its report. `croupier start` runs them on the schedule;
 * `croupier jobs run` triggers one.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import type { Config } from '../config/index.ts';
import { runChild } from '../jobs/child-process.ts';
import { createRunLedger } from '../jobs/ledger.ts';
import { createJobRunner, type JobDefinition, type JobRunner } from '../jobs/runner.ts';
import { type DataInterval, parseSchedule } from '../jobs/schedule.ts';
import type { Logger } from '../log/logger.ts';
import type { ShadowReport } from '../shadow/evaluate-shadow.ts';

const CROUPIER_BIN = new URL('../../bin/croupier.js', import.meta.url).pathname;

/**
 * Runs `croupier <args>` with `config`'s archive, model, train and log sections; resolves with its stdout. The
 * child ends with the run: when `signal` aborts (lease lost, croupier stopping) and when this process dies.
 */
async function runCroupier(
  config: Readonly<Config>,
  args: string[],
  signal: AbortSignal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'croupier-job-'));
  const file = path.join(dir, 'config.json');
  try {
    const sections = { archive: config.archive, model: config.model, train: config.train, log: config.log };
    await writeFile(file, JSON.stringify(sections), { mode: 0o600 });
    const result = await runChild(process.execPath, [CROUPIER_BIN, ...args, '--config', file], { signal });
    return { code: result.code ?? 1, stdout: result.stdout, stderr: result.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Why a run found nothing to work on yet (`croupier: <code>: …` on stderr, exit 2), or null. */
function nothingYet(result: { code: number; stderr: string }, code: string): { skipped: string } | null {
  if (result.code !== 2 || !result.stderr.includes(code)) return null;
  // The interval is done: a later one will have the data.
  return { skipped: result.stderr.trim().replace(/^croupier: /, '') };
}

/** The start of a run's window: `seconds` before its interval's end. */
const lookbackFrom = (interval: DataInterval, seconds: number) =>
  String(Math.max(0, interval.end - seconds * 1000));

export function trainJob(config: Readonly<Config>): JobDefinition {
  const settings = config.jobs.train;
  return {
    name: 'train',
    schedule: parseSchedule('jobs.train', settings.every, settings.cron),
    async run(interval, signal) {
      const from = lookbackFrom(interval, settings.lookbackSeconds);
      const args = ['train', '--from', from, '--to', String(interval.end), '--json'];
      if (settings.promote) args.push('--promote');
      const result = await runCroupier(config, args, signal);
      const skipped = nothingYet(result, 'CROUPIER_ERR_TRAIN_NO_DATA');
      if (skipped !== null) return skipped;
      if (result.code !== 0 && result.stdout.trim() === '') {
        throw new Error(`croupier train exited with ${result.code}: ${result.stderr.trim().slice(-2000)}`);
      }
      const report = JSON.parse(result.stdout) as {
        version: string;
        refused?: string;
        promoted?: boolean;
        gate?: { checks: { name: string; passed: boolean; detail: string }[] };
        rows?: { rows: number };
      };
      if (report.refused) throw new Error(`${report.version} refused: ${report.refused}`);
      return {
        version: report.version,
        rows: report.rows?.rows,
        promoted: report.promoted ?? false,
        gate: report.gate?.checks.map((c) => `${c.passed ? 'pass' : 'FAIL'} ${c.name}: ${c.detail}`),
      };
    },
  };
}

/**
 * `watch` runs `croupier models watch --json` (one look of the post-promotion watch) in a child process: a
 * significant loss of live click-through rolls the registry back, and the gateways reload.
 */
export function watchJob(config: Readonly<Config>): JobDefinition {
  const settings = config.jobs.watch;
  return {
    name: 'watch',
    schedule: parseSchedule('jobs.watch', settings.every, settings.cron),
    async run(_interval, signal) {
      const result = await runCroupier(config, ['models', 'watch', '--json'], signal);
      if (result.code !== 0) {
        throw new Error(
          `croupier models watch exited with ${result.code}: ${result.stderr.trim().slice(-2000)}`,
        );
      }
      const outcome = JSON.parse(result.stdout) as {
        status: string;
        reason?: string;
        look?: { reason: string; promotion: { from: string; to: string } };
      };
      return outcome.look
        ? { status: outcome.status, promotion: outcome.look.promotion, reason: outcome.look.reason }
        : { status: outcome.status, reason: outcome.reason };
    },
  };
}

/** The summary of a shadow report the run ledger keeps (what the dashboard's jobs panel shows). */
export interface ShadowRunSummary {
  /** The directory that holds report.json, report.txt and report.svg. */
  report: string;
  carousels: number;
  impressions: number;
  logged: { policies: string[]; ctr: number };
  candidates: {
    label: string;
    /** Doubly robust CTR per impression with its interval, and the lift over the logged policy. */
    ctr: { estimate: number; ci: [number, number] };
    lift: { estimate: number; ci: [number, number] };
    verdict: string;
  }[];
}

/**
 * `shadow` runs `croupier shadow --from <end − lookback> --to <end> --report <reportDir>/<end>` in a child
 * process: the configured candidates (by default greedy and the logged Thompson sampling) against the policy
 * that logged the carousels. An archive without carousels that logged their candidate set yet counts as done.
 */
export function shadowJob(config: Readonly<Config>): JobDefinition {
  const settings = config.jobs.shadow;
  return {
    name: 'shadow',
    schedule: parseSchedule('jobs.shadow', settings.every, settings.cron),
    async run(interval, signal) {
      const report = path.resolve(
        settings.reportDir,
        new Date(interval.end).toISOString().replace(/[:.]/g, '-'),
      );
      const args = [
        'shadow',
        '--from',
        lookbackFrom(interval, settings.lookbackSeconds),
        '--to',
        String(interval.end),
      ];
      for (const candidate of settings.candidates) args.push('--candidate', candidate);
      args.push('--replicates', String(settings.replicates), '--report', report, '--json');
      const result = await runCroupier(config, args, signal);
      const skipped = nothingYet(result, 'CROUPIER_ERR_SHADOW_NO_DATA');
      if (skipped !== null) return skipped;
      if (result.code !== 0) {
        throw new Error(`croupier shadow exited with ${result.code}: ${result.stderr.trim().slice(-2000)}`);
      }
      return { ...shadowSummary(JSON.parse(result.stdout) as ShadowReport, report) };
    },
  };
}

function shadowSummary(r: ShadowReport, report: string): ShadowRunSummary {
  return {
    report,
    carousels: r.carousels.evaluated,
    impressions: r.impressions,
    logged: { policies: r.logged.policies, ctr: r.logged.metrics.ctr.estimate },
    candidates: r.candidates.map((c) => ({
      label: c.label,
      ctr: { estimate: c.metrics.ctr.estimates.dr.estimate, ci: c.metrics.ctr.estimates.dr.ci },
      lift: { estimate: c.metrics.ctr.lift.dr.estimate, ci: c.metrics.ctr.lift.dr.ci },
      verdict: c.verdict.text,
    })),
  };
}

export function scheduledJobs(config: Readonly<Config>): JobDefinition[] {
  return [
    ...(config.jobs.train.enabled ? [trainJob(config)] : []),
    ...(config.jobs.watch.enabled ? [watchJob(config)] : []),
    ...(config.jobs.shadow.enabled ? [shadowJob(config)] : []),
  ];
}

export function jobRunnerFor(config: Readonly<Config>, redis: Redis | Cluster, logger: Logger): JobRunner {
  return createJobRunner({
    jobs: scheduledJobs(config),
    ledger: createRunLedger(redis),
    settings: {
      leaseMs: config.jobs.leaseMs,
      maxAttempts: config.jobs.maxAttempts,
      retryBackoffMs: config.jobs.retryBackoffMs,
      catchUp: config.jobs.catchUp,
    },
    logger: logger.child({ component: 'jobs' }),
  });
}
