/**
 * Avro object container files (deflate), written by hand around avsc's encoder so the header can carry the
 * end offset, which is only known when the file closes. While the file is open, each appended batch is staged
 * as one uncompressed block (`count`, `size`, row bytes); `finish` writes the header (schema, codec, croupier
 * metadata, sync marker), then each block deflated and followed by the sync marker.
 *
 *   header: 'Obj' 1 | map<bytes> metadata | 16-byte sync
 *   block:  long count | long size | deflated rows | sync
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { deflateRawSync } from 'node:zlib';
import avro from 'avsc';
import { type AvroSchema, rowSchemaOf, type TopicTable } from './columns.ts';
import { type FileBuilder, type FileMetadata, metadataEntries } from './file-builder.ts';
import { avroRowOf } from './rows.ts';
import { writeWholeSync } from './write-whole.ts';

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const LONG = avro.Type.forSchema('long');
const METADATA = avro.Type.forSchema({ type: 'map', values: 'bytes' });

/** The avsc type of a table's rows. */
export function rowTypeOf(table: TopicTable): { schema: AvroSchema; type: avro.Type } {
  const schema = rowSchemaOf(table);
  return { schema, type: avro.Type.forSchema(schema as avro.Schema) };
}

export function createAvroBuilder(options: {
  table: TopicTable;
  rowType: { schema: AvroSchema; type: avro.Type };
  stagingPath: string;
}): FileBuilder {
  const { stagingPath } = options;
  const { type, schema } = options.rowType;
  let fd: number | null = openSync(stagingPath, 'w', 0o644);

  return {
    input: 'fields',
    append(partition, records) {
      if (fd === null) throw new Error('append after finish');
      const rows = records.map((r) => type.toBuffer(avroRowOf(partition, r)));
      const body = Buffer.concat(rows);
      writeWholeSync(fd, Buffer.concat([LONG.toBuffer(rows.length), LONG.toBuffer(body.length), body]));
    },
    async finish(metadata: FileMetadata, localPath: string) {
      if (fd !== null) closeSync(fd);
      fd = null;
      const input = openSync(stagingPath, 'r');
      try {
        writeAvroContainer(localPath, JSON.stringify(schema), metadataEntries(metadata), readBlocks(input));
      } finally {
        closeSync(input);
      }
      await rm(stagingPath, { force: true });
      return (await stat(localPath)).size;
    },
    async discard() {
      if (fd !== null) closeSync(fd);
      fd = null;
      await rm(stagingPath, { force: true });
    },
  };
}

/** Writes an Avro object container file (deflate) of `blocks` of encoded rows. */
export function writeAvroContainer(
  localPath: string,
  schemaText: string,
  metadata: Record<string, string>,
  blocks: Iterable<{ count: number; body: Buffer }>,
): void {
  const sync = randomBytes(16);
  const meta: Record<string, Buffer> = {
    'avro.schema': Buffer.from(schemaText),
    'avro.codec': Buffer.from('deflate'),
  };
  for (const [k, v] of Object.entries(metadata)) meta[k] = Buffer.from(v);
  const out = openSync(localPath, 'w', 0o644);
  try {
    writeWholeSync(out, Buffer.concat([MAGIC, METADATA.toBuffer(meta), sync]));
    for (const block of blocks) {
      const deflated = deflateRawSync(block.body);
      writeWholeSync(
        out,
        Buffer.concat([LONG.toBuffer(block.count), LONG.toBuffer(deflated.length), deflated, sync]),
      );
    }
  } finally {
    closeSync(out);
  }
}

/** The staged blocks of a file, read back in order. */
function* readBlocks(fd: number): Generator<{ count: number; body: Buffer }> {
  let position = 0;
  const head = Buffer.alloc(20);
  for (;;) {
    const n = readSync(fd, head, 0, head.length, position);
    if (n === 0) return;
    const count = LONG.decode(head, 0);
    const size = LONG.decode(head, count.offset);
    const body = Buffer.alloc(size.value as number);
    if (readSync(fd, body, 0, body.length, position + size.offset) !== body.length) {
      throw new Error(`the staged block at byte ${position} is cut short`);
    }
    position += size.offset + body.length;
    yield { count: count.value as number, body };
  }
}
