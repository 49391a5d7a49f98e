/**
 * One redis-server per data directory. Two embedded redis-servers on one directory (two `croupier start`s given
 * the same `redis.embedded.dataDir`) append to one append-only file, which then replays the writes of both: in a
 * twelfth attack pass two servers on one directory took 100 keys each, and a server started on it afterwards held
 * all 200. A second is now refused while the croupier that holds the directory runs, and a croupier killed with
 * SIGKILL leaves it to the next.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSupervisedRedis } from '../../src/embedded/supervised-redis.ts';
import { silentLogger } from '../../src/log/logger.ts';

describe("the embedded redis-server's data directory", () => {
  const dir = mkdtempSync(join(tmpdir(), 'redis-lock-'));
  let holder: ChildProcess | undefined;
  afterAll(() => {
    if (holder?.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves one redis-server: a second is refused while its croupier runs, and taken once it is killed', async () => {
    holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { startSupervisedRedis } from './src/embedded/supervised-redis.ts';
         import { silentLogger } from './src/log/logger.ts';
         await startSupervisedRedis({ binary: 'redis-server', dataDir: ${JSON.stringify(dir)}, logger: silentLogger() });
         process.stdout.write('started');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await once(holder.stdout as NodeJS.ReadableStream, 'data');
    await expect(
      startSupervisedRedis({ binary: 'redis-server', dataDir: dir, logger: silentLogger() }),
    ).rejects.toThrow(/data directory of the embedded redis-server of a croupier that runs/);
    const exited = once(holder, 'exit');
    holder.kill('SIGKILL');
    await exited;
    const next = await startSupervisedRedis({ binary: 'redis-server', dataDir: dir, logger: silentLogger() });
    await next.close();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  }, 60_000);
});
