/**
 * The archive in a child process (archive-child.ts) that a crash test kills with SIGKILL in the middle of whatever
 * it does, and starts again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../../../src/config/index.ts';

const CHILD = path.join(import.meta.dirname, 'archive-child.ts');

/** Starts the archive of `config` in a child process; resolves once it is running. */
export function startArchiveChild(config: Config): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ARCHIVE_CHILD: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`archive child exited with ${code} before it was ready`)));
  });
}

export const exited = (child: ChildProcess): Promise<unknown> =>
  new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));

/**
 * Produces `events` in `kills + 1` chunks while the archive of `config` runs in a child process, killed with
 * SIGKILL after each chunk but the last (`pauseMs(k)` later: it has written some files and is in the middle of
 * whatever it does) and started again. Resolves to the child left running.
 */
export async function archiveUnderKills<E>(options: {
  config: Config;
  events: readonly E[];
  kills: number;
  produce(chunk: readonly E[]): Promise<void>;
  pauseMs(kill: number): number;
}): Promise<ChildProcess> {
  const { config, events, kills } = options;
  const chunk = Math.ceil(events.length / (kills + 1));
  let child = await startArchiveChild(config);
  for (let k = 0; k <= kills; k++) {
    await options.produce(events.slice(k * chunk, (k + 1) * chunk));
    if (k === kills) break;
    await new Promise((r) => setTimeout(r, options.pauseMs(k)));
    child.kill('SIGKILL');
    await exited(child);
    child = await startArchiveChild(config);
  }
  return child;
}
