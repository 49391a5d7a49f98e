/**
 * One process per data directory, for the embedded broker and the embedded redis-server. Two brokers on one
 * directory append to the same segment files, each numbering its own batches: the log then holds two records at
 * each offset (an attack pass started `croupier broker` twice on one directory and wrote 50 records through each;
 * after a restart 49 offsets were held twice), and a consumer that tracks offsets, as the topology and the
 * archive do, skips one of each. Two redis-servers on one directory append to one append-only file, which then
 * replays both one's and the other's writes. Kafka refuses a second broker with its log directory's `.lock`; so
 * does croupier, for both.
 *
 * The lock is a directory `DIR/.lock` holding one file named by its holder's token, with the holder's pid and
 * its process start time (so a pid reused after a reboot is not taken for the holder). It is made aside and
 * renamed into place, which fails while a lock is there, and a lock whose process is gone is taken away by
 * removing that file by its token, which fails once it is gone: of two brokers starting at once on a dead
 * broker's lock, one takes it. A lock of this process (a broker closed without its lock released) is taken.
 */
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

const LOCK = '.lock';

/** A process's start time (clock ticks since boot) where /proc has it; '' elsewhere. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : '';
  }
}

/** Whether the process a lock names still runs (and is the one that took it). */
function holderRuns(text: string): boolean {
  const [pidText, started = ''] = text.split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  const now = startTimeOf(pid);
  if (now === null) return false;
  if (now !== '' && started !== '') return now === started;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock of `dir`, or throws what `refuse` makes of its holder's pid and the lock's path; returns its
 * release.
 */
export function lockDataDir(dir: string, refuse: (holderPid: string, lockPath: string) => Error): () => void {
  const path = join(dir, LOCK);
  const token = randomBytes(8).toString('hex');
  const staging = join(dir, `${LOCK}.${token}.new`);
  mkdirSync(staging);
  writeFileSync(join(staging, token), `${process.pid} ${startTimeOf(process.pid) ?? ''}`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        renameSync(staging, path);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR' && code !== 'EISDIR') throw error;
      }
      let tokens: string[] = [];
      try {
        tokens = readdirSync(path);
      } catch {
        continue; // gone since: try again
      }
      const holder = tokens.length > 0 ? readFileOrNull(join(path, tokens[0])) : null;
      if ((holder !== null && holderRuns(holder)) || attempt >= 20) {
        throw refuse(holder?.split(' ')[0] ?? '?', path);
      }
      try {
        if (tokens.length > 0) unlinkSync(join(path, tokens[0]));
        rmdirSync(path);
      } catch {
        // another broker took it away first, or made it again
      }
    }
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return () => {
    // Only this broker's own token: a lock taken over since is another broker's.
    try {
      unlinkSync(join(path, token));
      rmdirSync(path);
    } catch {
      // gone, or another broker's lock by now
    }
  };
}

function readFileOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
