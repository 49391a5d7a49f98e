/**
 * The free space under the embedded redis-server's data directory: read from the real file system, warned of on
 * `/readyz` and in the log (once a minute at most) below the limit, reported on `/metrics` either way. A limit above
 * any disk's size makes the machine's own file system count as nearly full.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { watchDiskSpace } from '../../src/embedded/disk-space-watch.ts';

const dir = mkdtempSync(join(tmpdir(), 'croupier-disk-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capturingLogger(): { logger: pino.Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

async function readsAtLeast(watch: { reading(): unknown }, count: number): Promise<void> {
  // Each reading is a new object: wait until `count` readings after the first were taken.
  let seen = watch.reading();
  for (let taken = 0; taken < count; ) {
    await new Promise((r) => setTimeout(r, 10));
    const now = watch.reading();
    if (now !== seen) {
      seen = now;
      taken++;
    }
  }
}

describe("the embedded redis-server's disk", () => {
  it('warns while free space is below the limit, logs it once, and reports the free bytes', async () => {
    const { logger, lines } = capturingLogger();
    const watch = await watchDiskSpace({
      dir,
      warnFreeBytes: Number.MAX_SAFE_INTEGER,
      intervalMs: 10,
      logger,
    });
    try {
      await readsAtLeast(watch, 5);
      const reading = watch.reading()!;
      expect(reading.freeBytes).toBeGreaterThan(0);
      expect(reading.totalBytes).toBeGreaterThanOrEqual(reading.freeBytes);
      const warnings = watch.warnings();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(dir);
      expect(warnings[0]).toContain('MISCONF');
      // Six readings below the limit, one line in the log.
      expect(lines.filter((l) => l.level === 40 && l.msg.includes('disk has'))).toHaveLength(1);
    } finally {
      watch.close();
    }
  });

  it('says nothing while free space is above the limit, and still reports it', async () => {
    const { logger, lines } = capturingLogger();
    const watch = await watchDiskSpace({ dir, warnFreeBytes: 1, intervalMs: 10, logger });
    try {
      await readsAtLeast(watch, 2);
      expect(watch.warnings()).toEqual([]);
      expect(watch.reading()?.freeBytes).toBeGreaterThan(0);
      expect(lines).toEqual([]);
    } finally {
      watch.close();
    }
  });
});
