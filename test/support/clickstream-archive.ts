/**
 * Clickstream records written as the archive writes them: Avro bodies in the Confluent wire format (schema id 7),
 * in one committed Parquet file of partition 0 in the hour of the first record, named by its offsets.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createDirectParquetBuilder } from '../../src/archive/format/parquet/direct-parquet-builder.ts';
import type { ArchiveRecord } from '../../src/archive/format/rows.ts';
import { fileNameOf, hourDirOf } from '../../src/archive/layout.ts';
import { loadSchemas, type SchemaName } from '../../streams/schemas/index.ts';
import { topicTables } from '../archive/support/format-fixture.ts';

const schemas = loadSchemas();

/** The record at `offset` with the Avro body of `value` as a `name` record. */
export function clickstreamRecord(
  offset: number,
  timestamp: number,
  name: SchemaName,
  value: unknown,
): ArchiveRecord {
  const body = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), schemas[name].toBuffer(value)]);
  return {
    offset,
    timestamp,
    key: Buffer.from('u-42'),
    value: body,
    decoded: { kind: 'avro', recordType: schemas[name].name!, schemaId: 7, body, start: 5 },
  };
}

/** Writes `records` (offsets 0, 1, …) under `root` as the archive's file of them. */
export async function writeClickstreamArchive(
  root: string,
  records: readonly ArchiveRecord[],
): Promise<void> {
  const dir = hourDirOf('clickstream', records[0].timestamp);
  mkdirSync(path.join(root, dir), { recursive: true });
  const end = records.length - 1;
  const name = fileNameOf({ topic: 'clickstream', partition: 0, start: 0, end, format: 'parquet' });
  const builder = createDirectParquetBuilder({ table: topicTables().clickstream, compression: 'snappy' });
  builder.append(0, records);
  await builder.finish(
    {
      topic: 'clickstream',
      partition: 0,
      startOffset: 0,
      endOffset: end,
      records: records.length,
      writerSchemas: { '7': '{}' },
    },
    path.join(root, dir, name),
  );
}
