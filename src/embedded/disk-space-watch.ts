/**
 * Free space of the file system under the embedded redis-server's data directory, read every `intervalMs`
 * (`fs.statfs`). Redis refuses every write (`MISCONF`) once it cannot write its append-only file, and the file
 * grows to 64 MB before its first rewrite, which writes a copy beside it: below `warnFreeBytes` free, `/readyz`
 * warns (ready still: carousels are dealt from memory and the state is written while there is room; once the disk
 * is full the stalled partitions make it not ready) and the log says so at most once a minute.
 */
import { statfs } from 'node:fs/promises';
import { LogLimiter } from '../log/log-limiter.ts';
import type { Logger } from '../log/logger.ts';

export interface DiskSpace {
  /** Bytes an unprivileged process may still write (`bavail`). */
  freeBytes: number;
  totalBytes: number;
}

export interface DiskSpaceWatchOptions {
  dir: string;
  /** Below this many free bytes it warns; 0: never. */
  warnFreeBytes: number;
  intervalMs: number;
  logger: Logger;
  /** How often a warning is logged while it lasts (default 60 s). */
  logIntervalMs?: number;
}

export interface DiskSpaceWatch {
  /** The last reading; undefined when none succeeded yet. */
  reading(): DiskSpace | undefined;
  /** A line for `/readyz`'s warnings while free space is below the limit, else none. */
  warnings(): string[];
  close(): void;
}

const MIB = 1024 * 1024;

function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

/** Reads the file system of `options.dir` once, then every `intervalMs` until closed. */
export async function watchDiskSpace(options: DiskSpaceWatchOptions): Promise<DiskSpaceWatch> {
  const { dir, warnFreeBytes, logger } = options;
  const limiter = new LogLimiter(options.logIntervalMs ?? 60_000);
  let last: DiskSpace | undefined;
  let low = false;

  const read = async () => {
    try {
      const stats = await statfs(dir);
      last = { freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
    } catch (error) {
      limiter.warn(
        logger,
        'statfs',
        { err: error, dir },
        "could not read the free space of Redis's data directory",
      );
      return;
    }
    const nowLow = last.freeBytes < warnFreeBytes;
    if (nowLow) {
      limiter.warn(
        logger,
        'low',
        { dir, freeBytes: last.freeBytes, warnFreeBytes },
        `the embedded redis-server's disk has ${mib(last.freeBytes)} free: Redis refuses every write (MISCONF) once its append-only file cannot grow`,
      );
    } else if (low) {
      logger.info({ dir, freeBytes: last.freeBytes }, "the embedded redis-server's disk has room again");
    }
    low = nowLow;
  };

  await read();
  const timer = setInterval(() => void read(), options.intervalMs);
  timer.unref();

  return {
    reading: () => last,
    warnings() {
      if (last === undefined || last.freeBytes >= warnFreeBytes) return [];
      return [
        `the embedded redis-server's disk (${dir}) has ${mib(last.freeBytes)} free, below redis.embedded.diskWarnFreeBytes (${mib(warnFreeBytes)}): Redis refuses every write (MISCONF) once its append-only file cannot grow`,
      ];
    },
    close() {
      clearInterval(timer);
    },
  };
}
