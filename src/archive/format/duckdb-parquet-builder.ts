/**
 * Parquet files through DuckDB. Rows are staged as JSON lines in a local file while the file is open (cheap
 * to append, nothing held in memory), and `finish` runs one `COPY (SELECT … FROM read_json(…)) TO … (FORMAT
 * parquet)` on DuckDB's own threads: the columns and their conversions come from the topic's table
 * (columns.ts), and the key-value metadata carries topic, partition, offsets and writer schemas.
 */
import { closeSync, openSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { DuckDBInstance } from '@duckdb/node-api';
import { CroupierError } from '../../errors/index.ts';
import { jsonColumnsSql, selectSql, sqlString, type TopicTable } from './columns.ts';
import { type FileBuilder, type FileMetadata, metadataEntries } from './file-builder.ts';
import { jsonLineOf } from './rows.ts';
import { writeWholeSync } from './write-whole.ts';

export type ParquetCompression = 'zstd' | 'snappy' | 'gzip' | 'uncompressed';

export function createDuckDbParquetBuilder(options: {
  duckdb: DuckDBInstance;
  table: TopicTable;
  compression: ParquetCompression;
  /** Local path of the staged JSON lines. */
  stagingPath: string;
}): FileBuilder {
  const { table, stagingPath } = options;
  const withBytes = table.columns.some((c) => c.hasBytes && !c.name.startsWith('_'));
  let fd: number | null = openSync(stagingPath, 'w', 0o644);

  return {
    input: 'fields',
    append(partition, records) {
      if (fd === null) throw new Error('append after finish');
      let text = '';
      for (const r of records) text += jsonLineOf(partition, r, withBytes);
      writeWholeSync(fd, Buffer.from(text));
    },
    async finish(metadata: FileMetadata, localPath: string) {
      if (fd !== null) closeSync(fd);
      fd = null;
      const kv = Object.entries(metadataEntries(metadata))
        .map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`)
        .join(', ');
      const sql = `COPY (SELECT ${selectSql(table)} FROM read_json(${sqlString(stagingPath)}, format = 'newline_delimited', columns = ${jsonColumnsSql(table)}, maximum_object_size = 268435456)) TO ${sqlString(localPath)} (FORMAT parquet, COMPRESSION ${options.compression}, KV_METADATA {${kv}})`;
      const connection = await options.duckdb.connect();
      try {
        await connection.run(sql);
      } catch (error) {
        throw new CroupierError(
          'CROUPIER_ERR_ARCHIVE_FILE',
          `cannot write ${localPath}: ${(error as Error).message}`,
          { path: localPath },
          { cause: error },
        );
      } finally {
        connection.closeSync();
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
