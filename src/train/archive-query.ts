/**
 * One query's worth of the archive: the clickstream files of a window opened in DuckDB as the view
 * `clickstream` (training-set.ts's `openClickstream`), handed to `query`, and closed again, local copies of a
 * remote archive removed. A window with no files, or files without Carousel records, gives `empty`. A query
 * that fails is reported as CROUPIER_ERR_TRAIN_QUERY, naming `what`.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ArchiveFileSystem } from '../archive/fs/archive-fs.ts';
import { CroupierError } from '../errors/index.ts';
import { openArchiveInput } from './archive-input.ts';
import { columnsOf, openClickstream } from './training-set.ts';

export interface ArchiveQueryOptions {
  archive: ArchiveFileSystem;
  fromMs: number | null;
  toMs: number | null;
  /** Outcomes this long after `toMs` are read too. */
  attributionSeconds: number;
  memoryLimit: string;
  tempDir: string;
}

export async function queryArchive<T>(
  options: ArchiveQueryOptions,
  what: string,
  empty: T,
  query: (connection: DuckDBConnection, columns: Set<string>) => Promise<T>,
): Promise<T> {
  const input = await openArchiveInput(options.archive, {
    fromMs: options.fromMs,
    toMs: options.toMs,
    attributionWindowMs: options.attributionSeconds * 1000,
    hash: false,
  });
  try {
    if (input.localPaths.length === 0) return empty;
    const { db, connection } = await openClickstream({
      files: input.localPaths,
      memoryLimit: options.memoryLimit,
      tempDir: options.tempDir,
    });
    try {
      const columns = await columnsOf(connection);
      if (!columns.has('items')) return empty;
      return await query(connection, columns);
    } catch (error) {
      if (error instanceof CroupierError) throw error;
      throw new CroupierError(
        'CROUPIER_ERR_TRAIN_QUERY',
        `${what} failed: ${(error as Error).message}`,
        {},
        { cause: error },
      );
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  } finally {
    await input.release();
  }
}
