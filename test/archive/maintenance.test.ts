import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactArchive } from '../../src/archive/compact.ts';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { openDuckDb, startArchive } from '../../src/archive/index.ts';
import { listArchive, verifyArchive } from '../../src/archive/inspect.ts';
import { listTopicFiles } from '../../src/archive/scan.ts';
import { silentLogger } from '../../src/log/logger.ts';
import {
  archiveConfig,
  archiveTopics,
  clickstreamOver,
  endOffsets,
  type KafkaStack,
  offsetCensus,
  produceEvents,
  startKafkaStack,
  tempDir,
  waitForArchive,
} from './support/archive-stack.ts';

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

describe('verify, compact and the Avro format', () => {
  it('passes over transaction markers, compacts without losing a record, and says what is wrong when a file is missing or broken', async () => {
    const tmp = await tempDir('maint');
    const topics = await archiveTopics(stack, 'arch-maint', 2);
    const config = archiveConfig(stack, topics, { uri: tmp.dir, flushRecords: 100 });
    await produceEvents(stack, topics.clickstream, clickstreamOver(1200, 3), 2);
    // Transactional records: each commit leaves a control record at an offset no consumer sees.
    const txProducer = stack.kafka.producer({
      transactionalId: 'arch-maint-tx',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await txProducer.connect();
    for (let i = 0; i < 3; i++) {
      const tx = await txProducer.transaction();
      const value = await stack.codec.encode(topics.clickstream, 'Watch', {
        ...clickstreamOver(1, 9)[0].event,
        watchTimeMs: 5,
      } as never);
      await tx.send({
        topic: topics.clickstream,
        messages: [{ key: 'u1', partition: 0, value, timestamp: String(Date.parse('2026-03-01T10:30:00Z')) }],
      });
      await tx.commit();
    }
    await txProducer.disconnect();
    await produceEvents(stack, topics.clickstream, clickstreamOver(300, 4), 2);

    const fs = createLocalFileSystem(tmp.dir);
    const archive = await startArchive(
      config,
      { brokers: stack.broker.brokers, registryUrl: stack.registry.url },
      silentLogger(),
    );
    await waitForArchive(fs, stack, [topics.clickstream]);
    await archive.close();

    const glob = path.join(tmp.dir, topics.clickstream, '**', '*.parquet');
    const highs = await endOffsets(stack, topics.clickstream);
    const before = await listTopicFiles(fs, topics.clickstream);
    let report = await verifyArchive(fs, duckdb, { kafka: stack.kafka, topics: [topics.clickstream] });
    expect(report.problems).toEqual([]);
    expect(report.rows).toBe(1503);

    const compacted = await compactArchive({
      fs,
      duckdb,
      targetBytes: 64 * 1024 * 1024,
      compression: 'zstd',
      minAgeMs: 0,
      logger: silentLogger(),
    });
    expect(compacted.merged).toBeGreaterThan(0);
    const after = await listTopicFiles(fs, topics.clickstream);
    expect(after.length).toBeLessThan(before.length);
    const census = await offsetCensus(duckdb, glob, highs);
    expect(census.duplicates).toBe(0);
    expect(census.rows).toBe(1503);
    report = await verifyArchive(fs, duckdb, { kafka: stack.kafka, topics: [topics.clickstream] });
    expect(report.problems).toEqual([]);
    const listing = await listArchive(fs, duckdb, { topics: [topics.clickstream] });
    expect(listing.reduce((s, p) => s + p.rows, 0)).toBe(1503);

    // A lost file and a broken one are named, with what is wrong.
    const sorted = after.filter((f) => f.partition === 1).sort((a, b) => a.start - b.start);
    const lost = sorted[0];
    await rm(path.join(tmp.dir, lost.path));
    const broken = after.find((f) => f.partition === 0)!;
    await writeFile(
      path.join(tmp.dir, broken.path),
      (await readFile(path.join(tmp.dir, broken.path))).subarray(0, 100),
    );
    report = await verifyArchive(fs, duckdb, { kafka: stack.kafka, topics: [topics.clickstream] });
    expect(report.problems.join('\n')).toContain(
      `offsets ${lost.start}..${lost.end} are in Kafka but not in the archive`,
    );
    expect(report.problems.join('\n')).toContain(`${broken.path}: unreadable`);
    await tmp.remove();
  });

  it('writes Avro container files that avsc reads back with every record', async () => {
    const tmp = await tempDir('avro');
    const topics = await archiveTopics(stack, 'arch-avro', 2);
    const config = archiveConfig(stack, topics, { uri: tmp.dir, format: 'avro', flushRecords: 250 });
    const events = clickstreamOver(800, 5);
    await produceEvents(stack, topics.clickstream, events, 2);
    const fs = createLocalFileSystem(tmp.dir);
    const archive = await startArchive(
      config,
      { brokers: stack.broker.brokers, registryUrl: stack.registry.url },
      silentLogger(),
    );
    await waitForArchive(fs, stack, [topics.clickstream]);
    await archive.close();
    const eventIds: string[] = [];
    for (const f of await listTopicFiles(fs, topics.clickstream)) {
      expect(f.path.endsWith('.avro')).toBe(true);
      await new Promise<void>((resolve, reject) =>
        avro
          .createFileDecoder(path.join(tmp.dir, f.path))
          .on('data', (row: { eventId: string }) => eventIds.push(row.eventId))
          .on('end', resolve)
          .on('error', reject),
      );
    }
    expect(eventIds.sort()).toEqual(events.map((e) => e.event.eventId).sort());
    expect((await verifyArchive(fs, duckdb, { topics: [topics.clickstream] })).problems).toEqual([]);
    await tmp.remove();
  });
});
