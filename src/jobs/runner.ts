/**
 * Runs periodic jobs from their schedules against the run ledger: on each tick, every job's due intervals
 * (the last `catchUp` ones, oldest first, so missed intervals are caught up) that have not succeeded are
 * tried — one run per job per tick — under a lease (two instances never run one interval), extended while the
 * run lasts; a failed run is retried after an exponential backoff until `maxAttempts`. Ticks never overlap.
 */
import { randomUUID } from 'node:crypto';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import type { RunLedger, RunRecord } from './ledger.ts';
import { type DataInterval, dueIntervals, type Schedule } from './schedule.ts';

export interface JobDefinition {
  name: string;
  schedule: Schedule;
  /** Does the work of one data interval; what it returns is kept in the ledger. */
  run(interval: DataInterval): Promise<Record<string, unknown>>;
}

export interface JobRunnerSettings {
  leaseMs: number;
  maxAttempts: number;
  retryBackoffMs: number;
  catchUp: number;
}

export interface JobRunner {
  /** One pass over every job at `now`; resolves when the runs it started have finished. */
  tick(now?: number): Promise<RunRecord[]>;
  /** Runs one job's interval now (under the lease, recorded), whatever the schedule says. */
  runInterval(name: string, interval: DataInterval): Promise<RunRecord>;
  /** Ticks every `everyMs` until `stop`. */
  start(everyMs: number): void;
  stop(): Promise<void>;
}

export function createJobRunner(options: {
  jobs: readonly JobDefinition[];
  ledger: RunLedger;
  settings: JobRunnerSettings;
  logger: Logger;
  owner?: string;
  now?: () => number;
}): JobRunner {
  const { jobs, ledger, settings, logger } = options;
  const owner = options.owner ?? randomUUID();
  const clock = options.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  async function attempt(
    job: JobDefinition,
    interval: DataInterval,
    previous: RunRecord | null,
  ): Promise<RunRecord | null> {
    if (!(await ledger.acquire(job.name, interval, owner, settings.leaseMs))) return null;
    const record: RunRecord = {
      job: job.name,
      start: interval.start,
      end: interval.end,
      status: 'running',
      attempts: (previous?.attempts ?? 0) + 1,
      owner,
      startedAt: clock(),
    };
    const keepAlive = setInterval(
      () => {
        ledger.extend(job.name, interval, owner, settings.leaseMs).catch(() => undefined);
      },
      Math.max(1000, settings.leaseMs / 3),
    );
    try {
      await ledger.put(record);
      const log = logger.child({
        job: job.name,
        interval: {
          start: new Date(interval.start).toISOString(),
          end: new Date(interval.end).toISOString(),
        },
      });
      log.info({ attempt: record.attempts }, 'job run started');
      try {
        record.result = await job.run(interval);
        record.status = 'succeeded';
        log.info({ result: record.result }, 'job run succeeded');
      } catch (error) {
        record.status = 'failed';
        record.error = (error as Error).message;
        if (record.attempts < settings.maxAttempts) {
          record.nextAttemptAt = clock() + settings.retryBackoffMs * 2 ** (record.attempts - 1);
        }
        log.warn(
          { err: error, attempt: record.attempts, nextAttemptAt: record.nextAttemptAt },
          'job run failed',
        );
      }
      record.finishedAt = clock();
      await ledger.put(record);
      return record;
    } finally {
      clearInterval(keepAlive);
      await ledger.release(job.name, interval, owner).catch(() => undefined);
    }
  }

  /** Whether an interval's run should be (re)tried now. */
  function wanted(record: RunRecord | null, now: number): boolean {
    if (record === null) return true;
    if (record.status === 'succeeded') return false;
    // A run left 'running' by an instance that died has lost its lease: taking the lease retries it.
    if (record.status === 'running') return true;
    return record.nextAttemptAt !== undefined && record.nextAttemptAt <= now;
  }

  async function tickOnce(now: number): Promise<RunRecord[]> {
    const done: RunRecord[] = [];
    for (const job of jobs) {
      for (const interval of dueIntervals(job.schedule, now, settings.catchUp)) {
        const record = await ledger.get(job.name, interval.start);
        if (!wanted(record, now)) continue;
        const result = await attempt(job, interval, record);
        if (result !== null) {
          done.push(result);
          break; // one run per job per tick
        }
      }
    }
    return done;
  }

  const serialize = <T>(work: () => Promise<T>): Promise<T> => {
    const next = running.then(work, work);
    running = next.catch(() => undefined);
    return next;
  };

  return {
    tick: (now) => serialize(() => tickOnce(now ?? clock())),
    runInterval: (name, interval) =>
      serialize(async () => {
        const job = jobs.find((j) => j.name === name);
        if (!job) {
          throw new CroupierError(
            'CROUPIER_ERR_JOB_UNKNOWN',
            `no job ${name}: the jobs are ${jobs.map((j) => j.name).join(', ')}`,
            { job: name },
          );
        }
        const record = await attempt(job, interval, await ledger.get(name, interval.start));
        if (record === null) {
          throw new CroupierError(
            'CROUPIER_ERR_JOB_BUSY',
            `job ${name} for the interval starting ${new Date(interval.start).toISOString()} is running on another instance (its lease is held); try again when it ends`,
            { job: name, start: interval.start },
          );
        }
        return record;
      }),
    start(everyMs) {
      const loop = () => {
        if (stopped) return;
        serialize(() => tickOnce(clock()))
          .catch((error: unknown) => logger.warn({ err: error }, 'job tick failed; next tick retries'))
          .finally(() => {
            if (!stopped) timer = setTimeout(loop, everyMs);
          });
      };
      timer = setTimeout(loop, 0);
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
