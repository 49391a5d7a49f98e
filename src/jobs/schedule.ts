/**
 * When a periodic job is due: a fixed period (`every: '15m'`, aligned to the epoch, so every instance agrees on
 * the intervals) or a cron expression (croner, UTC). A run covers one data interval [start, end): the time
 * between two consecutive ticks; an interval is due once its end has passed. Pure.
 */
import { Cron } from 'croner';
import { CroupierError } from '../errors/index.ts';

export type Schedule = { kind: 'every'; ms: number; text: string } | { kind: 'cron'; expression: string };

export interface DataInterval {
  start: number;
  end: number;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function invalid(where: string, message: string): never {
  throw new CroupierError('CROUPIER_ERR_CONFIG_INVALID', `${where}: ${message}`, { key: where });
}

/** `every` ('30s', '15m', '1h', '1d') or `cron` ('*\/15 * * * *'); exactly one. */
export function parseSchedule(where: string, every: string, cron: string): Schedule {
  if ((every === '') === (cron === ''))
    invalid(where, 'set exactly one of every (e.g. 15m) and cron (e.g. 0 * * * *)');
  if (every !== '') {
    const m = /^(\d+)\s*([smhd])$/.exec(every.trim());
    if (!m || Number(m[1]) <= 0)
      invalid(`${where}.every`, `"${every}" is not a period: use a number and s, m, h or d, e.g. 15m`);
    return { kind: 'every', ms: Number(m[1]) * UNITS[m[2]], text: every };
  }
  try {
    new Cron(cron, { paused: true, timezone: 'UTC' }).stop();
  } catch (error) {
    invalid(`${where}.cron`, `"${cron}" is not a cron expression: ${(error as Error).message}`);
  }
  return { kind: 'cron', expression: cron };
}

export function describeSchedule(schedule: Schedule): string {
  return schedule.kind === 'every' ? `every ${schedule.text}` : `cron ${schedule.expression} (UTC)`;
}

/** The last `count` intervals that ended at or before `now`, oldest first. */
export function dueIntervals(schedule: Schedule, now: number, count: number): DataInterval[] {
  if (schedule.kind === 'every') {
    const lastEnd = Math.floor(now / schedule.ms) * schedule.ms;
    const out: DataInterval[] = [];
    for (let k = count - 1; k >= 0; k--) {
      const end = lastEnd - k * schedule.ms;
      out.push({ start: end - schedule.ms, end });
    }
    return out;
  }
  const cron = new Cron(schedule.expression, { paused: true, timezone: 'UTC' });
  try {
    // Ticks at or before now, newest first; the interval before the oldest needs one more.
    const ticks = cron.previousRuns(count + 1, new Date(now + 1)).map((d) => d.getTime());
    const out: DataInterval[] = [];
    for (let i = ticks.length - 1; i >= 1; i--) out.push({ start: ticks[i], end: ticks[i - 1] });
    return out;
  } finally {
    cron.stop();
  }
}

/** The interval a command line names: `<start>/<end>` or `<end>` (ISO 8601 or epoch ms); the schedule fills in. */
export function intervalEndingAt(schedule: Schedule, end: number): DataInterval {
  if (schedule.kind === 'every') return { start: end - schedule.ms, end };
  const cron = new Cron(schedule.expression, { paused: true, timezone: 'UTC' });
  try {
    const [previous] = cron.previousRuns(1, new Date(end));
    return { start: previous ? previous.getTime() : end - 3_600_000, end };
  } finally {
    cron.stop();
  }
}
