/**
 * What the dashboard's jobs panel shows of training, the post-promotion watch and shadow tests: the last run of
 * each job from the run ledger in Redis, and the model registry's active model, the trained candidate's metrics
 * and the last promotion, rollback or kept promotion. Read on the dashboard's own timer (every few seconds while
 * somebody watches), never on a decision's path.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Config } from '../config/index.ts';
import type { JobRunView, JobsReport } from '../dashboard/sources.ts';
import { createRunLedger, RECENT_KEPT, type RunRecord } from '../jobs/ledger.ts';
import { describeSchedule, parseSchedule } from '../jobs/schedule.ts';
import { promotionToWatch, readHistory } from '../models/registry-writer.ts';
import { readManifest } from '../scoring/model-registry.ts';

export interface JobsReportOptions {
  redis: Redis | Cluster;
  registryDir: string;
  /** Each job's schedule in this process's config ('every 10m'), null where it is not scheduled. */
  schedules: { train: string | null; watch: string | null; shadow: string | null };
}

/** Each job's schedule as the config gives it ('every 10m', 'cron 0 * * * * (UTC)'); null where it is off. */
export function configuredSchedules(jobs: Config['jobs']): JobsReportOptions['schedules'] {
  const of = (name: 'train' | 'watch' | 'shadow') => {
    const s = jobs[name];
    return jobs.enabled && s.enabled
      ? describeSchedule(parseSchedule(`jobs.${name}`, s.every, s.cron))
      : null;
  };
  return { train: of('train'), watch: of('watch'), shadow: of('shadow') };
}

function runView(record: RunRecord | undefined): JobRunView | null {
  if (record === undefined) return null;
  return {
    status: record.status,
    start: record.start,
    end: record.end,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt ?? null,
    attempts: record.attempts,
    error: record.error ?? null,
    result: record.result ?? null,
  };
}

/** The run that started last (a catch-up run may cover an older interval than the newest one). */
function lastStarted(records: readonly RunRecord[]): RunRecord | undefined {
  return [...records].sort((a, b) => b.startedAt - a.startedAt)[0];
}

/** Reads the jobs report (a failed read rejects; the dashboard keeps the last good one and reads again later). */
export function jobsReportReader(options: JobsReportOptions): () => Promise<JobsReport> {
  const ledger = createRunLedger(options.redis);
  return async () => {
    const latest = async (job: string) => {
      const recent = await ledger.recent(job);
      return recent.length > 0 ? recent : ledger.list(job, RECENT_KEPT);
    };
    const [train, watch, shadow, manifest, history] = await Promise.all([
      latest('train'),
      latest('watch'),
      latest('shadow'),
      readManifest(options.registryDir),
      readHistory(options.registryDir),
    ]);
    const lastTrain = lastStarted(train);
    const trained = lastStarted(train.filter((r) => typeof r.result?.version === 'string'));
    const version = trained?.result?.version as string | undefined;
    const entry = manifest.models.find((m) => m.version === version);
    const gate = trained?.result?.gate;
    const last = history.at(-1);
    const watching = promotionToWatch(history, manifest.active);
    return {
      training: {
        schedule: options.schedules.train,
        lastRun: runView(lastTrain),
        activeModel: manifest.active,
        candidate:
          version === undefined
            ? null
            : { version, metrics: (entry?.metrics ?? {}) as Record<string, number> },
        gate: Array.isArray(gate)
          ? { promoted: trained?.result?.promoted === true, checks: gate.map(String) }
          : null,
      },
      watch: {
        schedule: options.schedules.watch,
        watching: watching === null ? null : { at: watching.at, from: watching.from, to: watching.to },
        lastEvent:
          last === undefined
            ? null
            : { at: last.at, action: last.action, from: last.from, to: last.to, reason: last.reason },
        lastRun: runView(lastStarted(watch)),
      },
      shadow: { schedule: options.schedules.shadow, lastRun: runView(lastStarted(shadow)) },
    };
  };
}
