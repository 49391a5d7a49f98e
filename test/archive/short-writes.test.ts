/**
 * Archive files on a disk that fills up. A write that meets a full disk (ENOSPC) or a file-size limit (EFBIG)
 * takes only its first bytes and reports no error; only the next write fails. Avro files were written with
 * single `writeSync` calls, so the last block of a file could be cut short and the file closed, fsynced and
 * committed as if whole (and compaction, which writes its merged file the same way, then removed the files it
 * had merged). A twelfth attack pass found it; here the disk's end is a file-size limit (RLIMIT_FSIZE, which
 * Node takes as EFBIG, as on a full disk) on a child process writing one Avro container.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAvroFile } from '../../src/archive/format/file-reader.ts';
import { runUnderFileSizeLimit } from '../support/file-size-limit.ts';

const LIMIT_BLOCKS = 64; // 512-byte blocks: 32 KiB

/** Writes an Avro container of 2 blocks of incompressible rows (about 40 KB) under the limit: the disk's end falls in the last write. Its outcome. */
function writeUnderLimit(path: string): { threw: string | null } {
  const code = `
    import { randomBytes } from 'node:crypto';
    import { writeAvroContainer } from './src/archive/format/avro-builder.ts';
    const rows = (n) => Array.from({ length: n }, () => { const b = randomBytes(202); b[0] = 0x90; b[1] = 0x03; return b; });
    const blocks = [0, 1].map(() => ({ count: 100, body: Buffer.concat(rows(100)) }));
    try {
      writeAvroContainer(${JSON.stringify(path)}, '"bytes"', { 'croupier.records': '200' }, blocks);
      process.stdout.write(JSON.stringify({ threw: null }));
    } catch (error) {
      process.stdout.write(JSON.stringify({ threw: error.code ?? error.message }));
    }`;
  const child = runUnderFileSizeLimit(LIMIT_BLOCKS, code);
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout);
}

describe('Avro archive files on a full disk', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'croupier-short-writes-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails the write of a file the disk cannot take whole, never leaving it short as if written', async () => {
    const path = join(dir, 'file.avro');
    const outcome = writeUnderLimit(path);
    const size = (await stat(path)).size;
    expect(size).toBe(LIMIT_BLOCKS * 512);
    // The archive retries a file whose write failed; a file reported written must read back whole.
    if (outcome.threw === null) {
      const content = await readAvroFile(path).then(
        (c) => c.rows.length,
        (error: Error) => error.message,
      );
      expect(content).toBe(200);
    }
    expect(outcome.threw).toBe('EFBIG');
  });
});
