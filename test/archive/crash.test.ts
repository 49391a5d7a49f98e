/**
 * Crash test: the archive runs in a child process that is killed with SIGKILL several times while events are
 * produced; afterwards verify passes and DuckDB counts every offset exactly once. `npm test` runs a scaled
 * version (CHAOS_EVENTS, CHAOS_KILLS); `npm run chaos:archive` runs 500,000 events and 10 kills.
 */
import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { openDuckDb } from '../../src/archive/index.ts';
import { verifyArchive } from '../../src/archive/inspect.ts';
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

const EVENTS = Number(process.env.CHAOS_EVENTS ?? 60_000);
const KILLS = Number(process.env.CHAOS_KILLS ?? 4);
const PARTITIONS = 4;

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

describe('the archive killed with SIGKILL', () => {
  it(
    `archives ${EVENTS} events exactly once across ${KILLS} kills`,
    async () => {
      const tmp = await tempDir('crash');
      const topics = await archiveTopics(stack, 'arch-crash', PARTITIONS);
      const config = archiveConfig(stack, topics, {
        uri: tmp.dir,
        flushRecords: 2000,
        rotateIntervalMs: 300_000,
      });
      const events = clickstreamOver(EVENTS, 11, 3);
      const child = await archiveUnderKills({
        config,
        events,
        kills: KILLS,
        produce: (chunk) => produceEvents(stack, topics.clickstream, chunk, PARTITIONS),
        pauseMs: (k) => 800 + ((k * 337) % 1200),
      });
      const fs = createLocalFileSystem(tmp.dir);
      await waitForArchive(fs, stack, [topics.clickstream], 240_000);
      child.kill('SIGTERM');
      await exited(child);

      const census = await offsetCensus(
        duckdb,
        path.join(tmp.dir, topics.clickstream, '**', '*.parquet'),
        await endOffsets(stack, topics.clickstream),
      );
      expect(census).toEqual({ rows: EVENTS, duplicates: 0, missing: 0 });
      const report = await verifyArchive(fs, duckdb, { kafka: stack.kafka, topics: [topics.clickstream] });
      expect(report.problems).toEqual([]);
      expect(report.rows).toBe(EVENTS);
      await tmp.remove();
    },
    Math.max(240_000, EVENTS * 3),
  );
});
