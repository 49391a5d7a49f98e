/**
 * `croupier serve` as a child process (`bin/croupier.js serve --set gateway.port=0` and the given `--set`s), resolved
 * with its gateway's URL once it prints it; `stop()` ends it with SIGTERM and resolves its exit code. `openFileLimit` runs it under
 * that many file descriptors (`ulimit -n`, soft and hard: Node cannot raise it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(import.meta.dirname, '..', '..');

export interface ServeChild {
  url: string;
  /** The croupier process (the shell that sets the limit runs it in its place). */
  pid: number;
  /** Ends it with SIGTERM; its exit code. */
  stop(): Promise<number | null>;
}

export async function startCroupierServe(
  settings: readonly string[],
  options: { openFileLimit?: number } = {},
): Promise<ServeChild> {
  const args = ['bin/croupier.js', 'serve', '--set', 'gateway.port=0'];
  for (const s of settings) args.push('--set', s);
  const child: ChildProcess =
    options.openFileLimit === undefined
      ? spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(
          'sh',
          ['-c', `ulimit -n ${options.openFileLimit} && exec "$0" "$@"`, process.execPath, ...args],
          {
            cwd: ROOT,
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
  const stop = async () => {
    if (child.exitCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    return await exited;
  };
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /croupier gateway: (\S+)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`croupier serve exited ${code}: ${output}`)));
  });
  return { url, pid: child.pid ?? 0, stop };
}
