import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { openDuckDb, startArchive } from '../../src/archive/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import {
  archiveConfig,
  archiveTopics,
  clickstreamOver,
  endOffsets,
  type KafkaStack,
  offsetCensus,
  produceEvents,
  query,
  startKafkaStack,
  tempDir,
  waitForArchive,
} from './support/archive-stack.ts';

const PARTITIONS = 3;
let stack: KafkaStack;
let duckdb: DuckDBInstance;
beforeAll(async () => {
  stack = await startKafkaStack();
  duckdb = await openDuckDb();
});
afterAll(async () => {
  duckdb.closeSync();
  await stack.close();
});

describe('the archive on a local directory', () => {
  it('writes every record once, by hour and offset, and goes on after a restart from its files', async () => {
    const tmp = await tempDir('local');
    const topics = await archiveTopics(stack, 'arch-local', PARTITIONS);
    const config = archiveConfig(stack, topics, { uri: tmp.dir, flushRecords: 400 });
    const fs = createLocalFileSystem(tmp.dir);
    const first = clickstreamOver(3000, 1);
    await produceEvents(stack, topics.clickstream, first, PARTITIONS);
    await stack.producer.send({
      topic: topics.clickstream,
      messages: [{ key: 'x', partition: 0, value: Buffer.from('not avro') }],
    });

    let archive = await startArchive(
      config,
      { brokers: stack.broker.brokers, registryUrl: stack.registry.url },
      silentLogger(),
    );
    await waitForArchive(fs, stack, [topics.clickstream]);
    await archive.close();

    const second = clickstreamOver(1500, 2, 1);
    await produceEvents(stack, topics.clickstream, second, PARTITIONS);
    archive = await startArchive(
      config,
      { brokers: stack.broker.brokers, registryUrl: stack.registry.url },
      silentLogger(),
    );
    await waitForArchive(fs, stack, [topics.clickstream]);
    await archive.close();

    const glob = path.join(tmp.dir, topics.clickstream, '**', '*.parquet');
    const census = await offsetCensus(duckdb, glob, await endOffsets(stack, topics.clickstream));
    expect(census).toEqual({ rows: 4501, duplicates: 0, missing: 0 });

    const byType = await query(
      duckdb,
      `SELECT _schema, count(*)::DOUBLE AS n FROM read_parquet('${glob}', hive_partitioning = true) GROUP BY 1 ORDER BY 1 NULLS FIRST`,
    );
    const expected = new Map<string | null, number>([[null, 1]]);
    for (const e of [...first, ...second]) {
      const name = `croupier.events.${e.type}`;
      expected.set(name, (expected.get(name) ?? 0) + 1);
    }
    expect(byType.map((r) => [r._schema, r.n])).toEqual(
      [...expected].sort(([a], [b]) => (a === null ? -1 : b === null ? 1 : a.localeCompare(b))),
    );

    // Every row is in the hour of its Kafka timestamp, and every name holds the offsets it claims.
    const misplaced = await query(
      duckdb,
      `SELECT count(*)::DOUBLE AS n FROM read_parquet('${glob}', hive_partitioning = true, filename = true)
       WHERE strftime(_timestamp, '%Y-%m-%d') <> "date"::VARCHAR OR hour::INTEGER <> hour(_timestamp)`,
    );
    expect(misplaced[0].n).toBe(0);
    const names = await query(
      duckdb,
      `SELECT filename, min(_offset)::DOUBLE AS lo, max(_offset)::DOUBLE AS hi, count(*)::DOUBLE AS n FROM read_parquet('${glob}', filename = true) GROUP BY filename`,
    );
    for (const f of names) {
      const [, , start, end] = path.basename(String(f.filename), '.parquet').split('+');
      expect([f.lo, f.hi]).toEqual([Number(start), Number(end)]);
      expect(f.n).toBeLessThanOrEqual(400);
    }
    const bad = await query(
      duckdb,
      `SELECT decode(_raw) AS raw, _error FROM read_parquet('${glob}') WHERE _schema IS NULL`,
    );
    expect(bad[0].raw).toBe('not avro');
    expect(String(bad[0]._error)).toMatch(/CROUPIER_ERR_SERDE_MAGIC/);
    expect(await readdir(path.join(tmp.dir, '+tmp'))).toEqual([]);
    await tmp.remove();
  });
});
