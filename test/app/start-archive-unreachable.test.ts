/**
 * `croupier start` whose archive cannot reach its WebHDFS at start fails with the archive's error and exits. Before,
 * the archive thread that reported the error was left running (it held what its start had opened), so the process
 * closed everything else and then stayed, neither serving nor exiting, until it was killed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/embedded/free-port.ts';

describe('croupier start with an unreachable WebHDFS archive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'croupier-hdfs-down-'));
  const children: ReturnType<typeof spawn>[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails with the archive error and exits', async () => {
    const closedPort = await freePort();
    const child = spawn(
      process.execPath,
      [
        'bin/croupier.js',
        'start',
        '--set',
        `archive.uri=webhdfs://127.0.0.1:${closedPort}/archive`,
        '--set',
        'archive.httpfs=true',
        '--set',
        'archive.hdfsUser=croupier',
        '--set',
        'gateway.port=0',
        '--set',
        'demo.traffic=off',
        '--set',
        'jobs.enabled=false',
        '--set',
        `model.registryDir=${join(dir, 'models')}`,
        '--set',
        'log.level=error',
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(stderr).toContain('CROUPIER_ERR_ARCHIVE_HDFS_UNAVAILABLE');
    expect(code).toBe(2);
  }, 90_000);
});
