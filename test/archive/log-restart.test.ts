/**
 * A Kafka log that starts again under the archive's files (a broker without a data dir restarted): its offsets
 * begin again at 0 below the archived ones, or even grow past them before the archive looks. The archive tells it
 * from the log it was written from (by the log's range and the record at the archived end), archives it from its
 * start under the next log epoch beside the old files, and says so (logged, counted as
 * CROUPIER_ERR_ARCHIVE_LOG_RESTARTED). A log that only grew, or that retention trimmed, is not taken for a new
 * one; a crash within an epoch stays exactly once.
 */
import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { openDuckDb, startArchive } from '../../src/archive/index.ts';
import { listArchive, verifyArchive } from '../../src/archive/inspect.ts';
import { epochOf } from '../../src/archive/layout.ts';
import { listTopicFiles } from '../../src/archive/scan.ts';
import type { Config } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { testTopics } from '../streams/support/stack.ts';
import { archiveUnderKills, exited } from './support/archive-process.ts';
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

const RESTARTED = 'CROUPIER_ERR_ARCHIVE_LOG_RESTARTED';
const stacks: KafkaStack[] = [];
let duckdb: DuckDBInstance;
beforeAll(async () => {
  duckdb = await openDuckDb();
});
afterAll(async () => {
  duckdb.closeSync();
  for (const stack of stacks) await stack.close();
});

async function newStack(): Promise<KafkaStack> {
  const stack = await startKafkaStack();
  stacks.push(stack);
  return stack;
}

/** Runs the archive on `stack` until the files of `epoch` reach the log's end; its metrics. */
async function archiveOnce(stack: KafkaStack, config: Config, epoch: number) {
  const archive = await startArchive(
    config,
    { brokers: stack.broker.brokers, registryUrl: stack.registry.url },
    silentLogger(),
  );
  try {
    await waitForArchive(
      createLocalFileSystem(config.archive.uri),
      stack,
      [config.kafka.topics.clickstream],
      60_000,
      epoch,
    );
  } finally {
    await archive.close();
  }
  return archive.metrics();
}

const epochsOf = async (dir: string, topic: string) =>
  [...new Set((await listTopicFiles(createLocalFileSystem(dir), topic)).map(epochOf))].sort();

describe('the archive under a Kafka log that starts again', () => {
  it('archives every record of each new log under its own log epoch, and takes a log that grew for the same one', async () => {
    const tmp = await tempDir('log-restart');
    const tag = `arch-restart${Date.now()}`;
    const first = await newStack();
    const topics = await archiveTopics(first, tag, 1);
    const topic = topics.clickstream;
    const glob = path.join(tmp.dir, topic, '**', '*.parquet');
    await produceEvents(first, topic, clickstreamOver(300, 1), 1);
    const config = (stack: KafkaStack) => archiveConfig(stack, topics, { uri: tmp.dir });
    const firstRun = await archiveOnce(first, config(first), 0);
    expect(firstRun.records).toBe(300);
    expect(firstRun.failures[RESTARTED]).toBeUndefined();

    // The same log grown: the record at the archived end is the one archived there.
    await produceEvents(first, topic, clickstreamOver(20, 2), 1);
    const grown = await archiveOnce(first, config(first), 0);
    expect(grown.records).toBe(20);
    expect(grown.failures[RESTARTED]).toBeUndefined();
    expect(await epochsOf(tmp.dir, topic)).toEqual([0]);

    /** A new broker under the archive: the same topic, a new log of `count` records, archived as `epoch`. */
    const archiveNewLog = async (count: number, seed: number, epoch: number) => {
      const stack = await newStack();
      await archiveTopics(stack, tag, 1);
      await produceEvents(stack, topic, clickstreamOver(count, seed), 1);
      const run = await archiveOnce(stack, config(stack), epoch);
      expect(run.records).toBe(count);
      expect(run.failures[RESTARTED]).toBe(1);
      return { stack, lastError: run.lastError };
    };

    // The log starts again at offset 0 and ends before the archived offsets (0..319).
    const second = await archiveNewLog(50, 3, 1);
    expect(second.lastError).toMatch(
      /the archive holds offsets up to 319 of log epoch 0 but the log ends at 50 \(starts at 0\)\. The new log is archived from its start \(offset 0\) as log epoch 1; the files of log epoch 0 \(offsets up to 319\) are kept/,
    );

    // Another new log, grown past the archived end (49 of epoch 1) before the archive looked.
    const { stack: third, lastError } = await archiveNewLog(80, 4, 2);
    expect(lastError).toMatch(
      /holds another record at offset 49 than the one log epoch 1 archived there\. The new log is archived from its start \(offset 0\) as log epoch 2/,
    );

    // ...and that log grown is still epoch 2.
    await produceEvents(third, topic, clickstreamOver(10, 5), 1);
    const thirdGrown = await archiveOnce(third, config(third), 2);
    expect(thirdGrown.records).toBe(10);
    expect(thirdGrown.failures[RESTARTED]).toBeUndefined();

    // Every record of every log, once in its epoch, read back by DuckDB; nothing of one epoch is in another.
    expect(await epochsOf(tmp.dir, topic)).toEqual([0, 1, 2]);
    const census = (epoch: number, high: number) => offsetCensus(duckdb, glob, new Map([[0, high]]), epoch);
    expect(await census(0, 320)).toEqual({ rows: 320, duplicates: 0, missing: 0 });
    expect(await census(1, 50)).toEqual({ rows: 50, duplicates: 0, missing: 0 });
    expect(await census(2, 90)).toEqual({ rows: 90, duplicates: 0, missing: 0 });

    // ls lists each epoch's ranges apart; verify compares the epoch the archive follows with Kafka.
    const fs = createLocalFileSystem(tmp.dir);
    const listing = await listArchive(fs, duckdb, { topics: [topic] });
    expect(listing.map((l) => [l.epoch, l.ranges, l.rows])).toEqual([
      [0, [[0, 319]], 320],
      [1, [[0, 49]], 50],
      [2, [[0, 89]], 90],
    ]);
    const report = await verifyArchive(fs, duckdb, { kafka: third.kafka, topics: [topic] });
    expect(report.problems).toEqual([]);
    expect(report.rows).toBe(460);
    expect(report.lag).toEqual({});
    await tmp.remove();
  }, 180_000);

  it('takes a log whose records up to the archived end were removed by retention for the same one', async () => {
    const tmp = await tempDir('log-retention');
    const stack = await newStack();
    const topics = testTopics(`arch-retained${Date.now()}`);
    // Retention by size keeps no more than the last batch (never past the last stable offset).
    await stack.admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: topics.clickstream,
          numPartitions: 1,
          configEntries: [{ name: 'retention.bytes', value: '1' }],
        },
      ],
    });
    await stack.codec.registerAll(topics);
    const config = archiveConfig(stack, topics, { uri: tmp.dir });
    await produceEvents(stack, topics.clickstream, clickstreamOver(300, 6), 1);
    expect((await archiveOnce(stack, config, 0)).records).toBe(300);

    await produceEvents(stack, topics.clickstream, clickstreamOver(20, 7), 1);
    stack.broker.handle.broker.applyRetention(Date.now());
    const [range] = await stack.admin.fetchTopicOffsets(topics.clickstream);
    expect([Number(range.low), Number(range.high)]).toEqual([300, 320]);
    const after = await archiveOnce(stack, config, 0);
    expect(after.records).toBe(20);
    expect(after.failures[RESTARTED]).toBeUndefined();
    expect(await epochsOf(tmp.dir, topics.clickstream)).toEqual([0]);
    const glob = path.join(tmp.dir, topics.clickstream, '**', '*.parquet');
    expect(await offsetCensus(duckdb, glob, new Map([[0, 320]]))).toEqual({
      rows: 320,
      duplicates: 0,
      missing: 0,
    });
    await tmp.remove();
  }, 120_000);

  it('archives a new log exactly once in its epoch across SIGKILLs of the archive', async () => {
    const EVENTS = 6000;
    const KILLS = 3;
    const PARTITIONS = 2;
    const tmp = await tempDir('log-restart-crash');
    const tag = `arch-restart-crash${Date.now()}`;
    const first = await newStack();
    const topics = await archiveTopics(first, tag, PARTITIONS);
    const topic = topics.clickstream;
    await produceEvents(first, topic, clickstreamOver(400, 8), PARTITIONS);
    const firstEnds = await endOffsets(first, topic);
    await archiveOnce(first, archiveConfig(first, topics, { uri: tmp.dir }), 0);

    // A new log under the files, archived by a process killed again and again while the log grows.
    const second = await newStack();
    await archiveTopics(second, tag, PARTITIONS);
    const config = archiveConfig(second, topics, { uri: tmp.dir, flushRecords: 300 });
    const events = clickstreamOver(EVENTS, 9, 3);
    const child = await archiveUnderKills({
      config,
      events,
      kills: KILLS,
      produce: (chunk) => produceEvents(second, topic, chunk, PARTITIONS),
      pauseMs: (k) => 500 + ((k * 337) % 900),
    });
    const fs = createLocalFileSystem(tmp.dir);
    await waitForArchive(fs, second, [topic], 120_000, 1);
    child.kill('SIGTERM');
    await exited(child);

    expect(await epochsOf(tmp.dir, topic)).toEqual([0, 1]);
    const glob = path.join(tmp.dir, topic, '**', '*.parquet');
    expect(await offsetCensus(duckdb, glob, firstEnds, 0)).toEqual({ rows: 400, duplicates: 0, missing: 0 });
    expect(await offsetCensus(duckdb, glob, await endOffsets(second, topic), 1)).toEqual({
      rows: EVENTS,
      duplicates: 0,
      missing: 0,
    });
    const report = await verifyArchive(fs, duckdb, { kafka: second.kafka, topics: [topic] });
    expect(report.problems).toEqual([]);
    expect(report.rows).toBe(EVENTS + 400);
    await tmp.remove();
  }, 240_000);
});
