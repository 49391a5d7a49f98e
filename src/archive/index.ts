/**
 * The archive: every record of croupier's topics in Hive-partitioned Parquet (or Avro) files, exactly once,
 * on a local directory or HDFS. `startArchive` runs the sink (and the scheduled maintenance: compaction and
 * retention) on resolved endpoints; `croupier archive` runs it alone, `croupier start` in a worker thread.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { loadSchemas } from '../../streams/schemas/index.ts';
import type { Config } from '../config/index.ts';
import { createEventCodec, createKafka } from '../kafka/index.ts';
import type { Logger } from '../log/logger.ts';
import { openArchiveFileSystem } from './fs/open.ts';
import { scheduleMaintenance } from './maintenance.ts';
import type { ArchiveMetricsSnapshot } from './metrics.ts';
import { createSchemaTexts } from './schema-texts.ts';
import { startArchiveSink } from './sink.ts';

export interface ArchiveEndpoints {
  brokers: readonly string[];
  registryUrl: string;
}

export interface ArchiveHandle {
  /** Commits the open files, stops consuming and the scheduled jobs. */
  close(): Promise<void>;
  metrics(): ArchiveMetricsSnapshot;
}

/** A DuckDB in memory for writing and reading archive files . */
export async function openDuckDb(): Promise<DuckDBInstance> {
  return DuckDBInstance.create(':memory:');
}

export async function startArchive(
  config: Readonly<Config>,
  endpoints: ArchiveEndpoints,
  logger: Logger,
): Promise<ArchiveHandle> {
  const fs = openArchiveFileSystem(config.archive);
  const duckdb = await openDuckDb();
  const auth =
    config.schemaRegistry.username && config.schemaRegistry.password
      ? { username: config.schemaRegistry.username, password: config.schemaRegistry.password }
      : undefined;
  try {
    const kafka = createKafka(config.kafka, endpoints.brokers, { logger });
    const codec = createEventCodec({
      registryUrl: endpoints.registryUrl,
      auth,
      schemas: loadSchemas(),
      logger,
    });
    const sink = await startArchiveSink({
      config,
      kafka,
      codec,
      fs,
      duckdb,
      schemaText: createSchemaTexts(endpoints.registryUrl, auth),
      logger,
    });
    const maintenance = scheduleMaintenance({ config, fs, duckdb, logger });
    return {
      async close() {
        maintenance.stop();
        await sink.close();
        await maintenance.idle();
        duckdb.closeSync();
      },
      metrics: () => sink.metrics(),
    };
  } catch (error) {
    duckdb.closeSync();
    throw error;
  }
}
