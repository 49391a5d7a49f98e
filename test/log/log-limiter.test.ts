import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LogLimiter } from '../../src/log/log-limiter.ts';

describe('log limiter', () => {
  it('logs a repeating warning once per interval and key, and says how many it left out', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    let now = 1_000;
    const limiter = new LogLimiter(10_000, () => now);
    // A click every 20 ms for 20 s: one line at the start, one 10 s later with the 499 in between.
    for (let i = 0; i < 1000; i++) {
      limiter.warn(logger, 'claim', { requestId: `r${i}` }, 'claiming a click in Redis failed');
      now += 20;
    }
    limiter.warn(logger, 'check', { requestId: 'x' }, 'checking feedback failed');
    expect(lines.map((l) => [l.msg, l.requestId, l.suppressed])).toEqual([
      ['claiming a click in Redis failed', 'r0', undefined],
      ['claiming a click in Redis failed', 'r500', 499],
      ['checking feedback failed', 'x', undefined],
    ]);
  });

  it('logs at error as at warn, one line per interval and key', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    let now = 0;
    const limiter = new LogLimiter(10_000, () => now);
    // A partition failing every 60 ms for 15 s (the archive's disk full), another once.
    for (let i = 0; i < 250; i++) {
      limiter.error(logger, 'clickstream-0', { attempt: i }, 'partition failed');
      now += 60;
    }
    limiter.error(logger, 'clickstream-1', { attempt: 0 }, 'partition failed');
    expect(lines.map((l) => [l.level, l.attempt, l.suppressed])).toEqual([
      [50, 0, undefined],
      [50, 167, 166],
      [50, 0, undefined],
    ]);
  });
});
