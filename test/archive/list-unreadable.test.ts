import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { openDuckDb } from '../../src/archive/index.ts';
import { listArchive } from '../../src/archive/inspect.ts';

const dir = mkdtempSync(join(tmpdir(), 'croupier-list-unreadable-'));
let duckdb: DuckDBInstance;
beforeAll(async () => {
  duckdb = await openDuckDb();
});
afterAll(() => {
  duckdb.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

describe('archive ls on a file it cannot read', () => {
  it('names the file and what to run instead of failing with the reader error alone', async () => {
    const hour = join(dir, '__proto__', 'date=2026-12-08', 'hour=03');
    mkdirSync(hour, { recursive: true });
    const name = '__proto__+0+0000000000000000000+0000000000000000009.parquet';
    writeFileSync(join(hour, name), '');
    const fs = createLocalFileSystem(dir);
    await expect(listArchive(fs, duckdb, { rows: false })).resolves.toMatchObject([
      { topic: '__proto__', partition: 0, files: 1, ranges: [[0, 9]] },
    ]);
    const failure = await listArchive(fs, duckdb).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'CROUPIER_ERR_ARCHIVE_VERIFY' });
    expect((failure as Error).message).toContain(name);
    expect((failure as Error).message).toContain('archive verify');
  });
});
