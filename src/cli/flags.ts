/**
 * Command-line values that are not config keys (`--seed`, `--clients`, `--duration`, `--url`, output files),
 * checked once where the command reads them: a value out of range is refused naming the flag and the range, and an
 * output that cannot be written is refused before the run, not after it.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { MAX_TIMER_MS } from '../config/schema.ts';
import { describeRange, inRange, type NumericRange } from '../domain/limits.ts';
import { CroupierError, type ErrorCode } from '../errors/index.ts';

/** The ranges of the flags the simulator, replay and shadow commands share. */
export const FLAG_RANGES = Object.freeze({
  /** A seed is one 32-bit word of the generator's state. */
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
  /** WebSocket clients one process opens. */
  clients: { min: 1, max: 10_000, integer: true },
  /** Items of a simulated catalog. */
  items: { min: 1, max: 100_000, integer: true },
  /** Seconds of a run: wall-clock ones wait on a timer, which holds at most 2³¹−1 ms. */
  durationSeconds: { min: 0, max: MAX_TIMER_MS / 1000, minExclusive: true },
  /** Carousel requests per second, or a replay's speed-up. */
  rate: { min: 0, max: 1e6, minExclusive: true },
} satisfies Record<string, NumericRange>);

/** `text` as a number inside `range`, or a CroupierError with `code` naming `flag` and the range. */
export function numberFlag(flag: string, text: string, range: NumericRange, code: ErrorCode): number {
  const value = text.trim() === '' ? Number.NaN : Number(text);
  if (!inRange(value, range)) {
    const expected = `${range.integer === true ? '' : 'a number in '}${describeRange(range)}`;
    throw new CroupierError(code, `${flag} expects ${expected}, got '${text}'`, { flag });
  }
  return value;
}

/** A gateway WebSocket URL: ws:// with a host, or a CroupierError with `code`. */
export function gatewayUrlFlag(text: string, code: ErrorCode): string {
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    url = null;
  }
  if (url === null || url.protocol !== 'ws:' || url.hostname === '') {
    throw new CroupierError(
      code,
      `--url expects the gateway's WebSocket URL, e.g. ws://127.0.0.1:8080/ws, got '${text}'`,
      { flag: '--url' },
    );
  }
  return text;
}

/** Checks before a run that `file` can be written (created, or emptied), so a run's output is not lost at its end. */
export function writableFile(flag: string, file: string, code: ErrorCode): void {
  try {
    closeSync(openSync(file, 'w'));
  } catch (cause) {
    throw new CroupierError(
      code,
      `${flag} ${file} cannot be written (${(cause as NodeJS.ErrnoException).code ?? String(cause)}): name a file in a directory that exists and is writable`,
      { flag, file },
      { cause },
    );
  }
}

/** Checks before a run that the directory `dir` exists or can be made. */
export function writableDirectory(flag: string, dir: string, code: ErrorCode): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw new CroupierError(
      code,
      `${flag} ${dir} cannot be made (${(cause as NodeJS.ErrnoException).code ?? String(cause)}): name a directory that is writable`,
      { flag, dir },
      { cause },
    );
  }
}
