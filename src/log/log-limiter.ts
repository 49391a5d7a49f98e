/**
 * One line per key and interval for a warning that can repeat once per message: while Redis does not answer, every
 * click's claim fails, and a line per click (hundreds a second) would bury everything else. The first warning of a
 * key is logged; the ones within `intervalMs` after it are counted; the next one logged says how many were left out
 * (`suppressed`). Keys are the warnings' fixed texts, so the map stays small.
 */
import type { Logger } from './logger.ts';

export class LogLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs `message` at warn under `key` unless one was logged within the interval (then counts it). */
  warn(logger: Logger, key: string, fields: Record<string, unknown>, message: string): void {
    this.log(logger, 'warn', key, fields, message);
  }

  /** As `warn`, at error. */
  error(logger: Logger, key: string, fields: Record<string, unknown>, message: string): void {
    this.log(logger, 'error', key, fields, message);
  }

  private log(
    logger: Logger,
    level: 'warn' | 'error',
    key: string,
    fields: Record<string, unknown>,
    message: string,
  ): void {
    const at = this.now();
    const seen = this.last.get(key);
    if (seen !== undefined && at - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    this.last.set(key, { at, suppressed: 0 });
    const suppressed = seen?.suppressed ?? 0;
    logger[level](suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}
