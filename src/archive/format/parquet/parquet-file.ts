/**
 * A whole Parquet file from a schema's filled leaves: one row group, one column chunk per leaf holding one v1
 * data page, then the footer.
 *
 *   file:    "PAR1" | chunk per leaf | FileMetaData | u32 footer length | "PAR1"
 *   chunk:   PageHeader { type DATA_PAGE, sizes, DataPageHeader { values, PLAIN, RLE, RLE } } | page bytes
 *   footer:  FileMetaData { version 1, schema (depth first), rows, [RowGroup], key-value metadata, created_by }
 *
 * Pages are compressed on libuv's thread pool (zlib for gzip, the `snappy` package's native compressor for
 * Snappy), so a large file does not hold the event loop that builds it.
 */
import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
import { compress as snappyCompress } from 'snappy';
import { PHYSICAL_TYPE_ID } from './leaf-column.ts';
import type { ParquetSchema, SchemaNode } from './parquet-schema.ts';
import { ThriftWriter } from './thrift-compact.ts';

export type DirectCompression = 'snappy' | 'gzip' | 'uncompressed';

const gzipAsync = promisify(gzip);
const MAGIC = Buffer.from('PAR1');
const CODEC = { uncompressed: 0, snappy: 1, gzip: 2 } as const;
const REPETITION = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;
const CONVERTED = { UTF8: 0, MAP: 1, LIST: 3, DATE: 6, TIMESTAMP_MILLIS: 9, TIMESTAMP_MICROS: 10 } as const;
const ENCODING = { PLAIN: 0, RLE: 3 } as const;

/** SchemaElement fields (parquet.thrift): 1 type, 3 repetition, 4 name, 5 children, 6 converted, 10 logical. */
function writeSchemaElements(w: ThriftWriter, columns: readonly SchemaNode[]): number {
  const elements: ((w: ThriftWriter) => void)[] = [];
  const group = (name: string, repetition: number, children: number, annotate?: (w: ThriftWriter) => void) =>
    elements.push((w) => {
      w.i32(3, repetition).binary(4, name).i32(5, children);
      annotate?.(w);
    });
  const visit = (node: SchemaNode, repetition: number) => {
    switch (node.kind) {
      case 'leaf':
        elements.push((w) => {
          w.i32(1, PHYSICAL_TYPE_ID[node.leaf.physical])
            .i32(3, node.required ? REPETITION.REQUIRED : repetition)
            .binary(4, node.name);
          annotateLeaf(w, node);
        });
        return;
      case 'struct':
        group(node.name, repetition, node.fields.length);
        for (const f of node.fields) visit(f, REPETITION.OPTIONAL);
        return;
      case 'list':
        group(node.name, repetition, 1, (w) => w.i32(6, CONVERTED.LIST).struct(10).struct(3).end().end());
        group('list', REPETITION.REPEATED, 1);
        visit(node.element, REPETITION.OPTIONAL);
        return;
      case 'map':
        group(node.name, repetition, 1, (w) => w.i32(6, CONVERTED.MAP).struct(10).struct(2).end().end());
        group('key_value', REPETITION.REPEATED, 2);
        visit(node.key, REPETITION.REQUIRED);
        visit(node.value, REPETITION.OPTIONAL);
        return;
    }
  };
  elements.push((w) => w.binary(4, 'schema').i32(5, columns.length));
  for (const c of columns) visit(c, REPETITION.OPTIONAL);
  w.structList(2, elements.length, (i) => elements[i](w));
  return elements.length;
}

/** Converted and logical type of a leaf: strings, dates, UTC timestamps. */
function annotateLeaf(w: ThriftWriter, node: SchemaNode & { kind: 'leaf' }): void {
  if (node.type === 'string' || node.type === 'enum') {
    w.i32(6, CONVERTED.UTF8).struct(10).struct(1).end().end();
  } else if (node.logical === 'date') {
    w.i32(6, CONVERTED.DATE).struct(10).struct(6).end().end();
  } else if (node.logical === 'timestamp-millis' || node.logical === 'timestamp-micros') {
    const millis = node.logical === 'timestamp-millis';
    w.i32(6, millis ? CONVERTED.TIMESTAMP_MILLIS : CONVERTED.TIMESTAMP_MICROS)
      .struct(10)
      .struct(8)
      .bool(1, true)
      .struct(2)
      .struct(millis ? 1 : 2)
      .end()
      .end()
      .end()
      .end();
  }
}

interface Chunk {
  header: Buffer;
  body: Buffer;
  uncompressedSize: number;
}

/**
 * A page body compressed as the file's codec says: gzip, or a raw Snappy block (the `snappy` package's native
 * compressor; Parquet's SNAPPY codec is the block format, without the framing of Snappy streams). Both run on
 * libuv's thread pool, so a file's pages are compressed side by side.
 */
export async function compressPage(page: Buffer, compression: DirectCompression): Promise<Buffer> {
  if (compression === 'gzip') return gzipAsync(page, { level: constants.Z_BEST_SPEED });
  if (compression === 'snappy') return snappyCompress(page);
  return page;
}

/** The file's bytes: leaves' pages, compressed with `compression`, and the footer with `metadata`. */
export async function encodeParquetFile(
  schema: ParquetSchema,
  rows: number,
  metadata: Record<string, string>,
  compression: DirectCompression,
): Promise<Buffer> {
  const chunks: Chunk[] = await Promise.all(
    schema.leaves.map(async (leaf) => {
      const page = leaf.page();
      const body = await compressPage(page, compression);
      const header = new ThriftWriter()
        .i32(1, 0) // DATA_PAGE
        .i32(2, page.length)
        .i32(3, body.length)
        .struct(5)
        .i32(1, leaf.count)
        .i32(2, ENCODING.PLAIN)
        .i32(3, ENCODING.RLE)
        .i32(4, ENCODING.RLE)
        .end()
        .end()
        .bytes();
      return { header: Buffer.from(header), body, uncompressedSize: header.length + page.length };
    }),
  );

  const parts: Buffer[] = [MAGIC];
  let offset = MAGIC.length;
  const offsets: number[] = [];
  for (const c of chunks) {
    offsets.push(offset);
    parts.push(c.header, c.body);
    offset += c.header.length + c.body.length;
  }
  const totalBytes = offset - MAGIC.length;

  const w = new ThriftWriter().i32(1, 1);
  writeSchemaElements(w, schema.columns);
  w.i64(3, rows);
  w.structList(4, 1, () => {
    w.structList(1, schema.leaves.length, (i) => {
      const leaf = schema.leaves[i];
      const c = chunks[i];
      w.i64(2, offsets[i]);
      w.struct(3)
        .i32(1, PHYSICAL_TYPE_ID[leaf.physical])
        .i32List(2, [ENCODING.PLAIN, ENCODING.RLE])
        .stringList(3, leaf.path)
        .i32(4, CODEC[compression])
        .i64(5, leaf.count)
        .i64(6, c.uncompressedSize)
        .i64(7, c.header.length + c.body.length)
        .i64(9, offsets[i])
        .end();
    });
    w.i64(2, totalBytes).i64(3, rows);
  });
  const kv = Object.entries(metadata);
  w.structList(5, kv.length, (i) => w.binary(1, kv[i][0]).binary(2, kv[i][1]));
  w.binary(6, 'croupier archive');
  w.end();
  const footer = w.bytes();
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32LE(footer.length, 0);
  parts.push(footer, length, MAGIC);
  return Buffer.concat(parts);
}
