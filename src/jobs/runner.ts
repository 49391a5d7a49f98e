/**
 * Runs periodic jobs from their schedules against the run ledger: on each tick, every job's due intervals
 * (the last `catchUp` ones, oldest first, so missed intervals are caught up) that have not succeeded are
 * tried — one run per job per tick — under a lease (two instances never run one interval), extended while the
 * run lasts; a failed run is retried after an exponential backoff until `maxAttempts`. Ticks never overlap.
 *
 * An interval is due, as in Airflow, once it has ended against a trusted clock: the earlier of this process's
 * clock and Redis's (`TIME`, the clock the leases expire on), and the ledger claims an interval only when it has
 * ended by Redis's clock. So a clock running ahead neither runs a future interval on the data there is nor
 * records it done before its time.
 *
 * A run ends with its interval's lease: when the lease is lost (another instance may take the interval over) or
 * the runner stops, the run's signal aborts, the job stops what it started (a job's child process ends with it),
 * and the run is recorded failed, to be retried like any failed run.
 */
import { randomUUID } from 'node:crypto';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import type { ClaimRefusal, RunLedger, RunRecord } from './ledger.ts';
import { type DataInterval, dueIntervals, type Schedule } from './schedule.ts';

export interface JobDefinition {
  name: string;
  schedule: Schedule;
  /**
   * Does the work of one data interval; what it returns is kept in the ledger. When `signal` aborts, the run has
   * lost its lease or the runner is stopping: stop the work (and whatever it spawned) and reject.
   */
  run(interval: DataInterval, signal: AbortSignal): Promise<Record<string, unknown>>;
}

export interface JobRunnerSettings {
  leaseMs: number;
  maxAttempts: number;
  retryBackoffMs: number;
  catchUp: number;
}

export interface JobRunner {
  /** One pass over every job at `now` (or the trusted clock); resolves when the runs it started have finished. */
  tick(now?: number): Promise<RunRecord[]>;
  /** Runs one job's interval now (under the lease, recorded), whatever the schedule says, once it has ended. */
  runInterval(name: string, interval: DataInterval): Promise<RunRecord>;
  /** Ticks every `everyMs` until `stop`. */
  start(everyMs: number): void;
  /** Stops ticking, abandons the runs in flight (recorded failed, retried later) and waits for them to end. */
  stop(): Promise<void>;
}

/** Why a run was abandoned: the reason its signal aborts with. */
class RunAbandoned extends Error {}

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
  const inFlight = new Set<AbortController>();

  /** Keeps a run's lease; aborts the run when the lease is lost or cannot be extended for a whole lease. */
  function holdLease(job: JobDefinition, interval: DataInterval, run: AbortController): () => void {
    let extendedAt = performance.now();
    const keepAlive = setInterval(
      () => {
        ledger.extend(job.name, interval, owner, settings.leaseMs).then(
          (held) => {
            if (held) extendedAt = performance.now();
            else run.abort(new RunAbandoned('abandoned: the lease was lost (another instance may run it)'));
          },
          () => {
            if (performance.now() - extendedAt >= settings.leaseMs) {
              run.abort(new RunAbandoned('abandoned: the lease could not be extended for jobs.leaseMs'));
            }
          },
        );
      },
      Math.max(1000, settings.leaseMs / 3),
    );
    return () => clearInterval(keepAlive);
  }

  /** Claims and runs one interval; the refusal when it could not be claimed. */
  async function attempt(
    job: JobDefinition,
    interval: DataInterval,
    previous: RunRecord | null,
  ): Promise<RunRecord | { refused: ClaimRefusal; redisTime: number }> {
    const claimed: RunRecord = {
      job: job.name,
      start: interval.start,
      end: interval.end,
      status: 'running',
      attempts: (previous?.attempts ?? 0) + 1,
      owner,
      startedAt: clock(),
    };
    const claim = await ledger.claim(claimed, previous, settings.leaseMs);
    if (claim.outcome !== 'claimed') return { refused: claim.outcome, redisTime: claim.redisTime };
    const run = new AbortController();
    inFlight.add(run);
    if (stopped) run.abort(new RunAbandoned('abandoned: croupier is stopping'));
    const letGo = holdLease(job, interval, run);
    const record: RunRecord = { ...claimed };
    // Nothing between the claim and the try may throw: the lease would be renewed, and the run in flight, for good.
    const log = logger.child({
      job: job.name,
      interval: { start: isoTime(interval.start), end: isoTime(interval.end) },
    });
    try {
      log.info({ attempt: record.attempts }, 'job run started');
      try {
        run.signal.throwIfAborted();
        record.result = await job.run(interval, run.signal);
        run.signal.throwIfAborted(); // a result after the lease was lost is not this run's to record
        record.status = 'succeeded';
        log.info({ result: record.result }, 'job run succeeded');
      } catch (error) {
        const abandoned = run.signal.aborted ? run.signal.reason : error;
        delete record.result;
        record.status = 'failed';
        record.error = (abandoned as Error).message;
        if (record.attempts < settings.maxAttempts) {
          // On the clock `wanted` compares with, so a clock ahead does not put the retry off by its lead.
          const failedAt = await trustedNow(clock()).catch(() => clock());
          record.nextAttemptAt = failedAt + settings.retryBackoffMs * 2 ** (record.attempts - 1);
        }
        log.warn(
          { err: abandoned, attempt: record.attempts, nextAttemptAt: record.nextAttemptAt },
          'job run failed',
        );
      }
      record.finishedAt = clock();
      if (!(await ledger.finish(record, claim.stored))) {
        log.warn(
          { status: record.status },
          'job run not recorded: another instance took the interval over after this run lost its lease',
        );
      }
      return record;
    } finally {
      letGo();
      inFlight.delete(run);
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

  /** The trusted clock: the earlier of this process's and Redis's. */
  async function trustedNow(now: number): Promise<number> {
    return Math.min(now, await ledger.time());
  }

  async function tickOnce(given: number): Promise<RunRecord[]> {
    const now = await trustedNow(given);
    const done: RunRecord[] = [];
    for (const job of jobs) {
      for (const interval of dueIntervals(job.schedule, now, settings.catchUp)) {
        if (stopped) return done;
        const record = await ledger.get(job.name, interval.start);
        if (!wanted(record, now)) continue;
        const result = await attempt(job, interval, record);
        if (!('refused' in result)) {
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
        if ('refused' in record) throw refusal(name, interval, record.refused, record.redisTime);
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
      for (const run of inFlight) run.abort(new RunAbandoned('abandoned: croupier is stopping'));
      await running;
    },
  };
}

/** The error `runInterval` throws for an interval it could not claim. */
function refusal(job: string, interval: DataInterval, why: ClaimRefusal, redisTime: number): CroupierError {
  const start = isoTime(interval.start);
  if (why === 'not-ended') {
    return new CroupierError(
      'CROUPIER_ERR_JOB_NOT_DUE',
      `job ${job} for the interval ${start} → ${isoTime(interval.end)} cannot run before the interval ends; Redis's clock says ${isoTime(redisTime)} (if this host's clock is ahead, fix its time)`,
      { job, start: interval.start, end: interval.end, redisTime },
    );
  }
  return new CroupierError(
    'CROUPIER_ERR_JOB_BUSY',
    why === 'busy'
      ? `job ${job} for the interval starting ${start} is running on another instance (its lease is held); try again when it ends`
      : `job ${job} for the interval starting ${start} was run by another instance meanwhile; see croupier jobs ls`,
    { job, start: interval.start },
  );
}

/** An epoch time as ISO 8601, or as its number where no Date holds it (beyond ±8.64e15 ms). */
function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
