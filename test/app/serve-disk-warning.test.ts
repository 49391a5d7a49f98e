/**
 * `croupier serve` on embedded defaults watches its redis-server's disk as `croupier start` does: with a limit above
 * any disk's size the file system counts as nearly full, and `/readyz` lists the warning and `/metrics` the free bytes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type ServeChild, startCroupierServe } from '../support/croupier-serve.ts';

describe('croupier serve', () => {
  let serve: ServeChild | undefined;

  afterAll(async () => {
    await serve?.stop();
  });

  it("warns on /readyz of the embedded redis-server's disk nearly full and reports its free bytes", async () => {
    serve = await startCroupierServe([
      `redis.embedded.diskWarnFreeBytes=${Number.MAX_SAFE_INTEGER}`,
      'log.level=silent',
    ]);
    const readiness = (await (await fetch(new URL('/readyz', serve.url))).json()) as { warnings: string[] };
    expect(readiness.warnings.filter((w) => w.includes("embedded redis-server's disk"))).toHaveLength(1);
    const metrics = await (await fetch(new URL('/metrics', serve.url))).text();
    expect(Number(/^croupier_redis_disk_free_bytes (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
  });
});
