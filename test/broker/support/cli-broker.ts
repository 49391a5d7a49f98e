/**
 * The broker as a child process through the CLI (`croupier broker --data-dir`), for tests that kill it or limit
 * what it may write. Its logs go to stdout; `output()` holds everything it printed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../../bin/croupier.js', import.meta.url));

export interface CliBroker {
  process: ChildProcess;
  address: string;
  /** Everything the broker printed (its logs go to stdout). */
  output(): string;
}

export interface CliBrokerOptions {
  partitions?: number;
  /**
   * The largest file the process may write (RLIMIT_FSIZE, rounded down to 512-byte blocks): a write past it is cut
   * short and the next one fails (EFBIG), as when a disk fills up.
   */
  fileSizeLimitBytes?: number;
}

export function startCliBroker(dataDir: string, options: CliBrokerOptions = {}): Promise<CliBroker> {
  const args = [CLI, 'broker', '--port', '0', '--data-dir', dataDir];
  args.push('--partitions', String(options.partitions ?? 2), '--set', 'log.level=warn');
  const limit = options.fileSizeLimitBytes;
  const child =
    limit === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(
          'sh',
          ['-c', `ulimit -f ${Math.floor(limit / 512)} && exec "$0" "$@"`, process.execPath, ...args],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`broker did not start: ${out} ${err}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /broker: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ process: child, address: m[1]!, output: () => out + err });
      }
    });
    child.on('exit', (code) => reject(new Error(`broker exited with ${code}: ${err}`)));
  });
}

/** SIGKILL; resolves once the process is gone. */
export async function kill9(child: CliBroker): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = new Promise((r) => child.process.once('exit', r));
  child.process.kill('SIGKILL');
  await exited;
}
