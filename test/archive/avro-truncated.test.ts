/**
 * An Avro archive file cut short, or damaged, is an error when read back. avsc's container decoder reads a file
 * cut inside its last block to the block before and ends without an error, so `compact` and `verify` would have
 * taken the rows after the cut for never written.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeAvroContainer } from '../../src/archive/format/avro-builder.ts';
import { avroContainerRecords, readAvroFile } from '../../src/archive/format/file-reader.ts';

const SCHEMA = JSON.stringify({
  type: 'record',
  name: 'Row',
  fields: [
    { name: '_offset', type: 'long' },
    { name: 'text', type: 'string' },
  ],
});

/** An Avro long (zigzag varint), as the container's rows carry it. */
function avroLong(n: number): Buffer {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
  return Buffer.from(out);
}

function row(offset: number): Buffer {
  const text = Buffer.from(`row ${offset} `.repeat(8));
  return Buffer.concat([avroLong(offset), avroLong(text.length), text]);
}

describe('an Avro archive file read back', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'croupier-avro-cut-'));
    path = join(dir, 'clickstream+0+0+29.avro');
    const blocks = [0, 10, 20].map((first) => {
      const rows = Array.from({ length: 10 }, (_, i) => row(first + i));
      return { count: rows.length, body: Buffer.concat(rows) };
    });
    writeAvroContainer(path, SCHEMA, { 'croupier.records': '30' }, blocks);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a whole file: every row, in order', async () => {
    const content = await readAvroFile(path);
    expect(content.offsets).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(avroContainerRecords(await readFile(path), path)).toBe(30);
  });

  it('refuses a file cut inside its last block, or just before its last sync marker, naming the file', async () => {
    const whole = await readFile(path);
    for (const cut of [40, 17, 8]) {
      await writeFile(path, whole.subarray(0, whole.length - cut));
      await expect(readAvroFile(path)).rejects.toMatchObject({
        code: 'CROUPIER_ERR_ARCHIVE_FILE',
        message: expect.stringContaining(`${path}: not a whole Avro file`),
      });
    }
  });

  it('refuses a file whose block ends in another sync marker', async () => {
    const damaged = Buffer.from(await readFile(path));
    damaged[damaged.length - 3] ^= 0xff;
    await writeFile(path, damaged);
    await expect(readAvroFile(path)).rejects.toMatchObject({
      code: 'CROUPIER_ERR_ARCHIVE_FILE',
      message: expect.stringContaining("sync marker is not the header's"),
    });
  });
});
