/** What the archive's format tests share: the project's contracts as topic tables, and a DuckDB to read files back. */

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll } from 'vitest';
import { type AvroSchema, topicTableOf } from '../../../src/archive/format/columns.ts';
import { CLICKSTREAM_SCHEMAS, readSchemaText, type SchemaName } from '../../../streams/schemas/index.ts';

export const contract = (name: SchemaName) => JSON.parse(readSchemaText(name)) as AvroSchema;

/** The tables of the four archived topics, from the contracts in streams/schemas. */
export const topicTables = () => ({
  clickstream: topicTableOf('clickstream', CLICKSTREAM_SCHEMAS.map(contract)),
  items: topicTableOf('cdc.items', [contract('ItemChange')]),
  users: topicTableOf('cdc.users', [contract('UserChange')]),
  deadLetters: topicTableOf('croupier.dlq', [contract('DeadLetter')]),
});

/**
 * A temporary directory and an in-memory DuckDB for the tests of one file, both removed after them. `query`
 * returns rows as JavaScript values (`js`) or as DuckDB's JSON-friendly strings (`json`).
 */
export function useDuckDb(prefix: string) {
  const handle = { dir: '', duckdb: undefined as DuckDBInstance | undefined };
  beforeAll(async () => {
    handle.dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    handle.duckdb = await DuckDBInstance.create(':memory:');
  });
  afterAll(async () => {
    handle.duckdb?.closeSync();
    await rm(handle.dir, { recursive: true, force: true });
  });
  return {
    dir: () => handle.dir,
    instance: () => handle.duckdb!,
    async query(sql: string, as: 'js' | 'json' = 'js'): Promise<Record<string, unknown>[]> {
      const c = await handle.duckdb!.connect();
      try {
        const reader = await c.runAndReadAll(sql);
        return (as === 'js' ? reader.getRowObjectsJS() : reader.getRowObjectsJson()) as Record<
          string,
          unknown
        >[];
      } finally {
        c.closeSync();
      }
    },
  };
}
