/**
 * Crash test: the archive runs in a child process that is killed with SIGKILL several times while events are
 * produced; afterwards verify passes and DuckDB counts every offset exactly once. `npm test` runs a scaled
 * version (CHAOS_EVENTS, CHAOS_KILLS); `npm run chaos:archive` runs 500,000 events and 10 kills.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFileSystem } from '../../src/archive/fs/local-fs.ts';
import { openDuckDb } from '../../src/archive/index.ts';
import { verifyArchive } from '../../src/archive/inspect.ts';
import type { Config } from '../../src/config/index.ts';
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
const CHILD = path.join(import.meta.dirname, 'support', 'archive-child.ts');

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

function startChild(config: Config): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ARCHIVE_CHILD: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`archive child exited with ${code} before it was ready`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));

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
      const chunk = Math.ceil(EVENTS / (KILLS + 1));
      let child = await startChild(config);
      for (let k = 0; k <= KILLS; k++) {
        await produceEvents(stack, topics.clickstream, events.slice(k * chunk, (k + 1) * chunk), PARTITIONS);
        if (k === KILLS) break;
        // Let it write some files, then kill it in the middle of whatever it does.
        await new Promise((r) => setTimeout(r, 800 + ((k * 337) % 1200)));
        child.kill('SIGKILL');
        await exited(child);
        child = await startChild(config);
      }
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
