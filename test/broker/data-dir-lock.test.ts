/**
 * One broker per data directory. Two brokers on one directory each number their own batches in the same segment
 * files: in a twelfth attack pass `croupier broker` started twice on one directory took 50 records through each,
 * and after a restart 49 offsets were held twice (a consumer that tracks offsets, as the topology and the archive
 * do, skips one of each). A second broker is now refused while the first runs, and a broker killed with SIGKILL
 * leaves a lock the next one takes.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliBroker, kill9, startCliBroker } from './support/cli-broker.ts';

describe("the broker's data directory", () => {
  const dir = mkdtempSync(join(tmpdir(), 'broker-lock-'));
  const running: CliBroker[] = [];
  afterAll(async () => {
    for (const broker of running) await kill9(broker);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves one broker: a second is refused while it runs, and a killed one leaves it to the next', async () => {
    const first = await startCliBroker(dir);
    running.push(first);
    const second = startCliBroker(dir).then((broker) => {
      running.push(broker);
      return broker;
    });
    await expect(second).rejects.toThrow(/is the data directory of a broker that runs/);
    await kill9(first);
    const next = await startCliBroker(dir);
    running.push(next);
    expect(next.address).toMatch(/:\d+$/);
    expect(readdirSync(dir).filter((f) => f.startsWith('.lock.'))).toEqual([]);
  });
});
