/**
 * `croupier serve` on embedded defaults watches its redis-server's disk as `croupier start` does: with a limit above
 * any disk's size the file system counts as nearly full, and `/readyz` lists the warning and `/metrics` the free bytes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '..', '..');

describe('croupier serve', () => {
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child?.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it("warns on /readyz of the embedded redis-server's disk nearly full and reports its free bytes", async () => {
    child = spawn(
      process.execPath,
      [
        'bin/croupier.js',
        'serve',
        '--set',
        'gateway.port=0',
        '--set',
        `redis.embedded.diskWarnFreeBytes=${Number.MAX_SAFE_INTEGER}`,
        '--set',
        'log.level=silent',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      child?.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /croupier gateway: (\S+)/.exec(stdout);
        if (match?.[1]) resolve(match[1]);
      });
      child?.once('exit', (code) => reject(new Error(`croupier serve exited ${code}: ${output}`)));
    });
    const readiness = (await (await fetch(new URL('/readyz', url))).json()) as { warnings: string[] };
    expect(readiness.warnings.filter((w) => w.includes("embedded redis-server's disk"))).toHaveLength(1);
    const metrics = await (await fetch(new URL('/metrics', url))).text();
    expect(Number(/^croupier_redis_disk_free_bytes (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
  });
});
