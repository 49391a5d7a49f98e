import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { openArchiveFileSystem } from '../../src/archive/fs/open.ts';
import { openDuckDb, startArchive } from '../../src/archive/index.ts';
import { verifyArchive } from '../../src/archive/inspect.ts';
import { createLogger, silentLogger } from '../../src/log/logger.ts';
import { startWebHdfsServer, type WebHdfsServer } from '../support/webhdfs-server.ts';
import {
  archiveConfig,
  archiveTopics,
  clickstreamOver,
  endOffsets,
  type KafkaStack,
  offsetCensus,
  produceEvents,
  startKafkaStack,
  waitForArchive,
} from './support/archive-stack.ts';

const PARTITIONS = 2;
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

async function archiveThroughFaults(
  server: WebHdfsServer,
  tag: string,
  httpfs: boolean,
  faults: (step: number) => Promise<void>,
) {
  const topics = await archiveTopics(stack, tag, PARTITIONS);
  const config = archiveConfig(stack, topics, {
    uri: server.uri('/data/archive'),
    hdfsUser: 'croupier',
    httpfs,
    flushRecords: 300,
  });
  const archive = await startArchive(
    config,
    { brokers: stack.broker.brokers, registryUrl: stack.registry.url },
    process.env.ARCHIVE_TEST_LOG ? createLogger({ level: 'warn', fd: 2 }) : silentLogger(),
  );
  const events = clickstreamOver(2400, 7);
  for (let step = 0; step < 4; step++) {
    await faults(step);
    await produceEvents(stack, topics.clickstream, events.slice(step * 600, (step + 1) * 600), PARTITIONS);
  }
  const fs = createLocalFileSystem(path.join(server.dataDir, 'data', 'archive'));
  await waitForArchive(fs, stack, [topics.clickstream], 120_000);
  const metrics = archive.metrics();
  await archive.close();
  const glob = path.join(server.dataDir, 'data', 'archive', topics.clickstream, '**', '*.parquet');
  const census = await offsetCensus(duckdb, glob, await endOffsets(stack, topics.clickstream));
  const report = await verifyArchive(openArchiveFileSystem(config.archive), duckdb, {
    topics: [topics.clickstream],
  });
  return { census, metrics, report, topics };
}

describe('the archive on HDFS through WebHDFS', () => {
  it('survives a 500 on the data step, RENAME false, a 403 and a namenode gone for 10 s, losing and duplicating nothing', async () => {
    const server = await startWebHdfsServer();
    const { census, metrics, report } = await archiveThroughFaults(
      server,
      'arch-hdfs',
      false,
      async (step) => {
        if (step === 0)
          server.failNext({
            op: 'CREATE',
            step: 'datanode',
            status: 500,
            exception: 'IOException',
            times: 2,
          });
        if (step === 1) server.renameFalseNext(2);
        if (step === 2)
          server.failNext({
            op: 'CREATE',
            step: 'namenode',
            status: 403,
            exception: 'AccessControlException',
            times: 2,
          });
        if (step === 3) await server.takeNamenodeDown(10_000);
      },
    );
    expect(census).toEqual({ rows: 2400, duplicates: 0, missing: 0 });
    expect(report.problems).toEqual([]);
    expect(metrics.failures).toMatchObject({
      IOException: expect.any(Number),
      AccessControlException: expect.any(Number),
    });
    expect(metrics.failures.CROUPIER_ERR_ARCHIVE_HDFS_UNAVAILABLE).toBeGreaterThan(0);
    expect(metrics.failures.CROUPIER_ERR_ARCHIVE_RENAME).toBeGreaterThan(0);
    // Files 644, directories 755, and the two-step CREATE went through the datanode.
    const perms = [...server.permissions].filter(([p]) => p.endsWith('.parquet.tmp') || p.includes('/hour='));
    expect(perms.filter(([p]) => p.endsWith('.tmp')).every(([, m]) => m === '644')).toBe(true);
    expect(perms.filter(([p]) => /hour=\d\d$/.test(p)).every(([, m]) => m === '755')).toBe(true);
    expect(server.requests).toContain('CREATE datanode');
    await server.close();
  });

  it('creates a marker only where none is, through WebHDFS and HttpFS', async () => {
    for (const httpfs of [false, true]) {
      const server = await startWebHdfsServer({ httpfs });
      const topics = await archiveTopics(stack, `arch-create-${httpfs}`, 1);
      const settings = { uri: server.uri('/data/archive'), hdfsUser: 'croupier', httpfs };
      const fs = openArchiveFileSystem(archiveConfig(stack, topics, settings).archive);
      expect(await fs.createText('+offsets/t/0.json', 'first\n')).toBe(true);
      expect(await fs.createText('+offsets/t/0.json', 'second\n')).toBe(false);
      expect(await fs.readText('+offsets/t/0.json')).toBe('first\n');
      await server.close();
    }
  });

  it('uploads through an HttpFS gateway in one step', async () => {
    const server = await startWebHdfsServer({ httpfs: true });
    const { census } = await archiveThroughFaults(server, 'arch-httpfs', true, async () => undefined);
    expect(census).toEqual({ rows: 2400, duplicates: 0, missing: 0 });
    expect(server.requests).not.toContain('CREATE datanode');
    await server.close();
  });
});
