import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledJobs } from '../../src/cli/scheduled-jobs.ts';
import { parseConfig } from '../../src/config/index.ts';
import { freePort } from '../../src/embedded/free-port.ts';
import { hasCode } from '../../src/errors/index.ts';
import { runChild } from '../../src/jobs/child-process.ts';
import { createRunLedger, RECENT_KEPT, type RunLedger } from '../../src/jobs/ledger.ts';
import { createJobRunner, type JobDefinition, type JobRunnerSettings } from '../../src/jobs/runner.ts';
import { dueIntervals, intervalEndingAt, parseSchedule } from '../../src/jobs/schedule.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

const MIN = 60_000;
const T = Date.UTC(2026, 11, 5, 10, 0, 0);
const SETTINGS: JobRunnerSettings = { leaseMs: 60_000, maxAttempts: 3, retryBackoffMs: MIN, catchUp: 3 };

/** Whether a process with this pid is running. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('job schedules', () => {
  it('cuts fixed periods aligned to the epoch into data intervals', () => {
    const every = parseSchedule('jobs.train', '15m', '');
    expect(dueIntervals(every, T + 7 * MIN, 2)).toEqual([
      { start: T - 30 * MIN, end: T - 15 * MIN },
      { start: T - 15 * MIN, end: T },
    ]);
  });

  it('cuts cron ticks (UTC) into data intervals', () => {
    const hourly = parseSchedule('jobs.train', '', '0 * * * *');
    expect(dueIntervals(hourly, T + 30 * MIN, 2)).toEqual([
      { start: T - 120 * MIN, end: T - 60 * MIN },
      { start: T - 60 * MIN, end: T },
    ]);
    expect(intervalEndingAt(hourly, T)).toEqual({ start: T - 60 * MIN, end: T });
  });

  it('refuses a schedule that is neither or both, or not one', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return error;
      }
    };
    for (const [every, cron, message] of [
      ['', '', /exactly one/],
      ['1h', '0 * * * *', /exactly one/],
      ['soon', '', /jobs.train.every: "soon" is not a period/],
      ['', 'every hour', /jobs.train.cron: "every hour" is not a cron expression/],
    ] as const) {
      const error = codeOf(() => parseSchedule('jobs.train', every, cron));
      expect(hasCode(error, 'CROUPIER_ERR_CONFIG_INVALID')).toBe(true);
      expect(String(error)).toMatch(message);
    }
  });
});

describe('the scheduled jobs of the default config', () => {
  it('shadow-tests greedy and the logged policy less often than it trains, with reports under the data directory', () => {
    const config = parseConfig({});
    const jobs = new Map(scheduledJobs(config).map((j) => [j.name, j]));
    expect([...jobs.keys()]).toEqual(['train', 'watch', 'shadow']);
    const period = (name: string) => {
      const s = jobs.get(name)?.schedule;
      return s?.kind === 'every' ? s.ms : Number.NaN;
    };
    expect(period('shadow')).toBeGreaterThanOrEqual(period('train'));
    expect(config.jobs.shadow.candidates).toEqual(['policy=greedy', 'policy=thompson']);
    const reports = resolve(config.jobs.shadow.reportDir);
    expect(reports.startsWith(`${resolve('data')}/`)).toBe(true);
    expect(reports.startsWith(resolve('models'))).toBe(false);
  });
});

describe('the job runner and its ledger in Redis', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis.close();
  });

  function job(name: string, work: (start: number) => Promise<Record<string, unknown>>): JobDefinition {
    return { name, schedule: parseSchedule(name, '10m', ''), run: (interval) => work(interval.start) };
  }

  const runner = (ledger: RunLedger, jobs: JobDefinition[], owner: string, settings = SETTINGS) =>
    createJobRunner({ jobs, ledger, settings, logger: silentLogger(), owner });

  it('runs each interval once across two instances, and catches up missed intervals oldest first', async () => {
    const ledger = createRunLedger(redis.client, redis.prefix());
    const runs: number[] = [];
    const work = async (start: number) => {
      runs.push(start);
      await new Promise((r) => setTimeout(r, 50));
      return { trained: start };
    };
    const a = runner(ledger, [job('train', work)], 'a');
    const b = runner(ledger, [job('train', work)], 'b');
    const now = T + 5 * MIN; // due: the intervals ending at T − 20m, T − 10m and T
    for (let i = 0; i < 4; i++) await Promise.all([a.tick(now), b.tick(now)]);
    expect(runs).toEqual([T - 30 * MIN, T - 20 * MIN, T - 10 * MIN]);
    const records = await ledger.list('train');
    expect(records.map((r) => [r.start, r.status, r.attempts])).toEqual([
      [T - 10 * MIN, 'succeeded', 1],
      [T - 20 * MIN, 'succeeded', 1],
      [T - 30 * MIN, 'succeeded', 1],
    ]);
    expect(records[0].result).toEqual({ trained: T - 10 * MIN });
  });

  it('retries a failed run after its backoff, doubling, until the attempts run out', async () => {
    const ledger = createRunLedger(redis.client, redis.prefix());
    let calls = 0;
    const failing = job('train', async () => {
      calls++;
      throw new Error('archive unreachable');
    });
    let now = T + MIN;
    const r = createJobRunner({
      jobs: [failing],
      ledger,
      settings: { ...SETTINGS, catchUp: 1 },
      logger: silentLogger(),
      owner: 'a',
      now: () => now,
    });
    await r.tick();
    let record = await ledger.get('train', T - 10 * MIN);
    expect(record).toMatchObject({ status: 'failed', attempts: 1, error: 'archive unreachable' });
    expect(record!.nextAttemptAt).toBe(now + MIN);
    now += 30_000; // before the backoff: not retried
    await r.tick();
    expect(calls).toBe(1);
    now = record!.nextAttemptAt!;
    await r.tick();
    record = await ledger.get('train', T - 10 * MIN);
    expect(record).toMatchObject({ status: 'failed', attempts: 2 });
    expect(record!.nextAttemptAt).toBe(now + 2 * MIN); // the backoff doubles
    now = record!.nextAttemptAt!;
    await r.tick();
    record = await ledger.get('train', T - 10 * MIN);
    expect(record).toMatchObject({ status: 'failed', attempts: 3 });
    expect(record!.nextAttemptAt).toBeUndefined();
    now = T + 10 * MIN - 1; // before the next interval ends: the failed one is given up
    await r.tick();
    expect(calls).toBe(3);
  });

  it('never runs an interval whose lease another instance holds, and retries one left running by a dead instance', async () => {
    const ledger = createRunLedger(redis.client, redis.prefix());
    const interval = { start: T - 10 * MIN, end: T };
    const other = {
      job: 'train',
      ...interval,
      status: 'running',
      attempts: 1,
      owner: 'other',
      startedAt: T,
    } as const;
    expect(await ledger.claim(other, null, 200)).toMatchObject({ outcome: 'claimed' });
    const runs: number[] = [];
    const r = runner(
      ledger,
      [
        job('train', async (s) => {
          runs.push(s);
          return {};
        }),
      ],
      'a',
      {
        ...SETTINGS,
        catchUp: 1,
      },
    );
    await r.tick(T + MIN);
    expect(runs).toEqual([]);
    const busy = await r.runInterval('train', interval).catch((e: unknown) => e);
    expect(hasCode(busy, 'CROUPIER_ERR_JOB_BUSY')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the dead owner's lease expires
    await r.tick(T + MIN);
    expect(runs).toEqual([T - 10 * MIN]);
    expect(await ledger.get('train', T - 10 * MIN)).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      owner: 'a',
    });
  });

  it('keeps the latest writes of each job for readers, one per interval, bounded', async () => {
    const ledger = createRunLedger(redis.client, redis.prefix());
    const work = async (start: number) => ({ trained: start });
    const r = runner(ledger, [job('train', work)], 'a', { ...SETTINGS, catchUp: 60 });
    for (let i = 0; i < 30; i++) await r.tick(T + 5 * MIN); // 30 runs: 60 writes, the oldest 10 leave the list
    const recent = await ledger.recent('train');
    const all = await ledger.list('train', 100); // the whole hash, newest interval first
    expect(all.length).toBe(30);
    expect(recent.map((x) => x.status)).toEqual(Array(RECENT_KEPT / 2).fill('succeeded'));
    expect(recent.map((x) => x.start)).toEqual(all.slice(0, RECENT_KEPT / 2).map((x) => x.start));
  });

  it('runs an interval once when a scheduler pauses between reading its record and claiming it', async () => {
    const ledger = createRunLedger(redis.client, redis.prefix());
    let resume!: () => void;
    const paused = new Promise<void>((r) => {
      resume = r;
    });
    let readDone!: () => void;
    const read = new Promise<void>((r) => {
      readDone = r;
    });
    // Scheduler a reads the interval's record (none yet) and then stalls until b has run the interval.
    const stalling: RunLedger = {
      ...ledger,
      async get(job, start) {
        const record = await ledger.get(job, start);
        readDone();
        await paused;
        return record;
      },
    };
    const runs: string[] = [];
    const work = (who: string) => async () => {
      runs.push(who);
      return {};
    };
    const settings = { ...SETTINGS, catchUp: 1 };
    const a = runner(stalling, [job('train', work('a'))], 'a', settings);
    const b = runner(ledger, [job('train', work('b'))], 'b', settings);
    const aTick = a.tick(T + MIN);
    await read;
    await b.tick(T + MIN);
    resume();
    await aTick;
    expect(runs).toEqual(['b']);
    expect(await ledger.get('train', T - 10 * MIN)).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      owner: 'b',
    });
  });

  it('runs each interval exactly once under many schedulers ticking at once', async () => {
    const ledger = createRunLedger(redis.client, redis.prefix());
    const runs: number[] = [];
    const work = async (start: number) => {
      runs.push(start);
      await new Promise((r) => setTimeout(r, Math.random() * 20));
      return {};
    };
    const many = Array.from({ length: 12 }, (_, i) =>
      runner(ledger, [job('train', work)], `s${i}`, { ...SETTINGS, catchUp: 6 }),
    );
    for (let round = 0; round < 8; round++) await Promise.all(many.map((r) => r.tick(T + 5 * MIN)));
    expect(runs.sort((x, y) => x - y)).toEqual([60, 50, 40, 30, 20, 10].map((m) => T - m * MIN));
  });

  /** A runner on a host whose clock is two hours ahead of Redis's (and of this one's). */
  const runnerAhead = (ledger: RunLedger, definition: JobDefinition, catchUp: number) =>
    createJobRunner({
      jobs: [definition],
      ledger,
      settings: { ...SETTINGS, catchUp },
      logger: silentLogger(),
      owner: 'ahead',
      now: () => Date.now() + 2 * 60 * MIN,
    });

  it("runs and records no interval that has not ended by Redis's clock, however far ahead its own clock is", async () => {
    const ledger = createRunLedger(redis.client, redis.prefix());
    const runs: number[] = [];
    const ahead = runnerAhead(
      ledger,
      job('train', async (start) => ({ ran: runs.push(start) })),
      3,
    );
    for (let i = 0; i < 3; i++) await ahead.tick();
    const redisNow = await ledger.time();
    const records = await ledger.list('train');
    expect(records.length).toBe(3);
    for (const record of records) {
      expect(record.status).toBe('succeeded');
      expect(record.end).toBeLessThanOrEqual(redisNow);
    }
    // Asked for by hand, an interval that has not ended is refused and not recorded.
    const end = Math.ceil(redisNow / (10 * MIN)) * 10 * MIN + 10 * MIN;
    const early = await ahead.runInterval('train', { start: end - 10 * MIN, end }).catch((e: unknown) => e);
    expect(hasCode(early, 'CROUPIER_ERR_JOB_NOT_DUE')).toBe(true);
    expect(await ledger.get('train', end - 10 * MIN)).toBeNull();
    expect(runs.every((start) => start + 10 * MIN <= redisNow)).toBe(true);
  });

  it("puts a failed run's retry off by its backoff on Redis's clock, not by the lead of a clock ahead", async () => {
    const ledger = createRunLedger(redis.client, redis.prefix());
    const ahead = runnerAhead(
      ledger,
      job('train', async () => Promise.reject(new Error('archive unreachable'))),
      1,
    );
    const before = await ledger.time();
    const [record] = await ahead.tick();
    const after = await ledger.time();
    expect(record).toMatchObject({ status: 'failed', attempts: 1 });
    expect(record.nextAttemptAt).toBeGreaterThanOrEqual(before + MIN);
    expect(record.nextAttemptAt).toBeLessThanOrEqual(after + MIN);
  });

  /** A job whose first run spawns a child that would live for `childMs`; later runs return at once. */
  function childJob(childMs: number) {
    let started!: (pid: number) => void;
    const firstChild = new Promise<number>((r) => {
      started = r;
    });
    let runs = 0;
    const definition: JobDefinition = {
      name: 'train',
      schedule: parseSchedule('train', '10m', ''),
      async run(_interval, signal) {
        if (runs++ > 0) return { retried: true };
        await runChild(process.execPath, ['-e', `setTimeout(() => {}, ${childMs})`], {
          signal,
          onSpawn: started,
        });
        return { child: 'finished' };
      },
    };
    return { definition, firstChild };
  }

  it('stops the child of a run whose lease is lost, records the run failed, and retries it', async () => {
    const prefix = redis.prefix();
    const ledger = createRunLedger(redis.client, prefix);
    const { definition, firstChild } = childJob(20_000);
    let now = T + MIN;
    const r = createJobRunner({
      jobs: [definition],
      ledger,
      settings: { ...SETTINGS, leaseMs: 1500, catchUp: 1 },
      logger: silentLogger(),
      owner: 'a',
      now: () => now,
    });
    const ticking = r.tick();
    const pid = await firstChild;
    await redis.client.del(`${prefix}jobs:{train}:lease:${T - 10 * MIN}`); // the lease expires under the run
    const [record] = await ticking;
    expect(alive(pid)).toBe(false);
    expect(record).toMatchObject({ status: 'failed', attempts: 1 });
    expect(record.error).toMatch(/lease was lost/);
    expect(await ledger.get('train', T - 10 * MIN)).toMatchObject({ status: 'failed', attempts: 1 });
    now = record.nextAttemptAt!;
    await r.tick();
    expect(await ledger.get('train', T - 10 * MIN)).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      result: { retried: true },
    });
  });

  it('keeps the record of the instance that took over an interval whose lease a run lost', async () => {
    const prefix = redis.prefix();
    const ledger = createRunLedger(redis.client, prefix);
    const { definition, firstChild } = childJob(20_000);
    const r = runner(ledger, [definition], 'a', { ...SETTINGS, leaseMs: 1500, catchUp: 1 });
    const ticking = r.tick(T + MIN);
    const pid = await firstChild;
    const interval = { start: T - 10 * MIN, end: T };
    await redis.client.del(`${prefix}jobs:{train}:lease:${interval.start}`);
    const taken = {
      job: 'train',
      ...interval,
      status: 'running',
      attempts: 2,
      owner: 'b',
      startedAt: T,
    } as const;
    const previous = await ledger.get('train', interval.start);
    expect(await ledger.claim(taken, previous, 60_000)).toMatchObject({ outcome: 'claimed' });
    const [record] = await ticking;
    expect(alive(pid)).toBe(false);
    expect(record.status).toBe('failed');
    expect(await ledger.get('train', interval.start)).toEqual(taken);
  });

  it('stops the child of a run in flight when the runner stops, and records the run failed to retry', async () => {
    const ledger = createRunLedger(redis.client, redis.prefix());
    const { definition, firstChild } = childJob(20_000);
    const r = runner(ledger, [definition], 'a', { ...SETTINGS, catchUp: 1 });
    const ticking = r.tick(T + MIN);
    const pid = await firstChild;
    await r.stop();
    const [record] = await ticking;
    expect(alive(pid)).toBe(false);
    expect(record).toMatchObject({ status: 'failed', attempts: 1, error: 'abandoned: croupier is stopping' });
    expect(record.nextAttemptAt).toBeDefined();
    expect(await ledger.get('train', T - 10 * MIN)).toMatchObject({ status: 'failed' });
  });

  it('records a run of an interval no Date can hold and lets its lease go', async () => {
    const prefix = redis.prefix();
    const ledger = createRunLedger(redis.client, prefix);
    // Before the earliest date JavaScript holds (-8.64e15 ms): its log line once threw after the claim.
    const interval = { start: -8.64e15 - 20 * MIN, end: -8.64e15 - 10 * MIN };
    const record = await runner(ledger, [job('train', async () => ({ ran: true }))], 'a').runInterval(
      'train',
      interval,
    );
    expect(record).toMatchObject({ status: 'succeeded', result: { ran: true } });
    expect(await redis.client.exists(`${prefix}jobs:{train}:lease:${interval.start}`)).toBe(0);
  });

  it('refuses an unknown job by name', async () => {
    const ledger = createRunLedger(redis.client, redis.prefix());
    const error = await runner(ledger, [], 'a')
      .runInterval('nope', { start: 0, end: 1 })
      .catch((e: unknown) => e);
    expect(hasCode(error, 'CROUPIER_ERR_JOB_UNKNOWN')).toBe(true);
  });
});

describe("a job run's child process", () => {
  const BIN = fileURLToPath(new URL('../../bin/croupier.js', import.meta.url));
  const CHILD_PROCESS = fileURLToPath(new URL('../../src/jobs/child-process.ts', import.meta.url));

  /** Whether `url` answers 200 within `withinMs`. */
  async function serving(url: string, withinMs: number): Promise<boolean> {
    const deadline = Date.now() + withinMs;
    while (Date.now() <= deadline) {
      const ok = await fetch(url).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  /** Whether the process `pid` has ended within `withinMs`. */
  async function gone(pid: number, withinMs: number): Promise<boolean> {
    const deadline = Date.now() + withinMs;
    while (alive(pid)) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return true;
  }

  it('ends a croupier command a job run spawned when the run is killed with SIGKILL', async () => {
    // The run: a process that spawns `croupier registry` (it serves until stopped) as a job spawns its command.
    const port = await freePort();
    const run = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { runChild } from ${JSON.stringify(CHILD_PROCESS)};
         runChild(process.execPath, [${JSON.stringify(BIN)}, 'registry', '--port', '${port}'], {
           onSpawn: (pid) => process.stdout.write(pid + '\\n'),
         });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(createInterface({ input: run.stdout }), 'line')) as [string];
    const child = Number(line);
    try {
      // Serving: the command has written all it writes until stopped, so no write to the dead run's pipe ends it.
      expect(await serving(`http://127.0.0.1:${port}/subjects`, 45_000)).toBe(true);
      run.kill('SIGKILL');
      await once(run, 'exit');
      expect(await gone(child, 20_000)).toBe(true);
    } finally {
      if (alive(child)) process.kill(child, 'SIGKILL');
    }
  }, 90_000);
});
