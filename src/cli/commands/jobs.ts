/**
 * `croupier jobs`: the periodic jobs (`ls`: schedule, due intervals and the run ledger's records) and a run on
 * demand (`run <job> [--interval <end>]`), recorded in the same ledger under the same lease as scheduled runs.
 * Needs the Redis that holds the ledger (`REDIS_URL`; `croupier start` prints its address).
 */
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { CroupierError } from '../../errors/index.ts';
import { createRunLedger } from '../../jobs/ledger.ts';
import { describeSchedule, dueIntervals, intervalEndingAt } from '../../jobs/schedule.ts';
import { createLogger } from '../../log/logger.ts';
import { configFromCommand, withConfigFlags } from '../context.ts';
import { jobRunnerFor, scheduledJobs } from '../scheduled-jobs.ts';
import { parseInstant } from './train.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);
const iso = (ms: number | undefined) => (ms === undefined ? '–' : new Date(ms).toISOString());

function ledgerRedis(url: string): Redis {
  if (!url) {
    throw new CroupierError(
      'CROUPIER_ERR_CONFIG_INVALID',
      'croupier jobs reads the run ledger in Redis: set REDIS_URL (croupier start prints the address of its redis-server)',
      { key: 'redis.url' },
    );
  }
  return new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: true });
}

export function registerJobsCommand(program: Command): void {
  const jobs = program
    .command('jobs')
    .description('periodic jobs (jobs.*): their schedule and run ledger in Redis, and runs on demand');

  withConfigFlags(
    jobs
      .command('ls')
      .description('each job: schedule, due intervals, recent runs')
      .option('--json', 'print JSON'),
  ).action(async (flags: { json?: boolean }, command: Command) => {
    const config = configFromCommand(command);
    const redis = ledgerRedis(config.redis.url);
    try {
      await redis.connect();
      const ledger = createRunLedger(redis);
      const now = Math.min(Date.now(), await ledger.time()); // the clock the runner trusts
      const listing = [];
      for (const job of scheduledJobs(config)) {
        listing.push({
          job: job.name,
          schedule: describeSchedule(job.schedule),
          due: dueIntervals(job.schedule, now, config.jobs.catchUp),
          runs: await ledger.list(job.name, 10),
        });
      }
      if (flags.json) {
        out(JSON.stringify(listing, null, 2));
        return;
      }
      for (const job of listing) {
        out(`${job.job}: ${job.schedule}; due intervals end ${job.due.map((d) => iso(d.end)).join(', ')}`);
        for (const r of job.runs) {
          out(
            `  ${iso(r.start)} → ${iso(r.end)}  ${r.status.padEnd(9)} attempt ${r.attempts}  ${r.error ?? JSON.stringify(r.result ?? {})}${r.nextAttemptAt ? `  retry at ${iso(r.nextAttemptAt)}` : ''}`,
          );
        }
        if (job.runs.length === 0) out('  no runs recorded');
      }
    } finally {
      redis.disconnect();
    }
  });

  withConfigFlags(
    jobs
      .command('run <job>')
      .description(
        'run a job now for one data interval (default: the last one that ended), under its lease, recorded in the ledger',
      )
      .option(
        '--interval <end>',
        'end of the data interval (ISO 8601 or epoch ms); its start follows from the schedule',
        parseInstant,
      ),
  ).action(async (name: string, flags: { interval?: number }, command: Command) => {
    const config = configFromCommand(command);
    const job = scheduledJobs(config).find((j) => j.name === name);
    if (!job) {
      throw new CroupierError(
        'CROUPIER_ERR_JOB_UNKNOWN',
        `no job ${name}: the jobs are ${
          scheduledJobs(config)
            .map((j) => j.name)
            .join(', ') || '(none enabled)'
        }`,
        { job: name },
      );
    }
    const redis = ledgerRedis(config.redis.url);
    const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, name: 'jobs' });
    try {
      await redis.connect();
      // The last interval that ended by the clock the runner trusts (this host's and Redis's, the earlier).
      const now = Math.min(Date.now(), await createRunLedger(redis).time());
      const interval =
        flags.interval === undefined
          ? dueIntervals(job.schedule, now, 1)[0]
          : intervalEndingAt(job.schedule, flags.interval);
      const runner = jobRunnerFor(config, redis, logger);
      // SIGINT/SIGTERM abandon the run: its child stops and the ledger records it failed, to be retried.
      const stop = () => void runner.stop();
      process.once('SIGINT', stop).once('SIGTERM', stop);
      const record = await runner.runInterval(name, interval).finally(() => {
        process.off('SIGINT', stop).off('SIGTERM', stop);
      });
      out(
        `${name} ${iso(record.start)} → ${iso(record.end)}: ${record.status}${record.error ? ` (${record.error})` : ''}`,
      );
      if (record.result) out(JSON.stringify(record.result, null, 2));
      if (record.status !== 'succeeded') process.exitCode = 1;
    } finally {
      redis.disconnect();
      logger.flush();
    }
  });
}
