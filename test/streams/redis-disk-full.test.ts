import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionKey } from '../../src/state/layout/index.ts';
import { startStreamTopology } from '../../streams/topology.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { compareEventsWithState } from './support/compare-state.ts';
import { generateClickstream } from './support/events.ts';
import {
  createTopics,
  type KafkaStack,
  produceClickstream,
  startKafkaStack,
  testTopics,
  topologyConfig,
  waitForOffsets,
} from './support/stack.ts';

// A redis-server whose files may grow to 1 MiB: a write past that is cut short and the next one fails with
// EFBIG, as on a full disk (SIGXFSZ is ignored so that Redis sees the error instead of dying of it).
const FILE_LIMIT = 1 << 20;
let work: string;
let stack: KafkaStack;
let redis: TestRedis;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'croupier-redis-disk-full-'));
  mkdirSync(join(work, 'data'));
  const wrapper = join(work, 'redis-server-limited');
  writeFileSync(
    wrapper,
    `#!/bin/sh\ntrap '' XFSZ\nexec prlimit --fsize=${FILE_LIMIT}:unlimited -- redis-server "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  [stack, redis] = await Promise.all([
    startKafkaStack(),
    startTestRedis({ binary: wrapper, dir: join(work, 'data'), appendOnly: true, appendFsync: 'everysec' }),
  ]);
});
afterAll(async () => {
  await stack?.close();
  await redis?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function aofWriteStatus(): Promise<string> {
  const info = await redis.client.info('persistence');
  return /aof_last_write_status:(\w+)/.exec(info)?.[1] ?? 'unknown';
}

async function until(what: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await what())) await new Promise((r) => setTimeout(r, 50));
}

describe("Redis's own disk full", () => {
  it('waits for Redis to write again instead of dead-lettering the records it refused (MISCONF)', async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`aoffull${Date.now()}`);
    await createTopics(stack.admin, topics, 1);
    const events = generateClickstream({ seed: 9, users: 12, items: 8, requests: 40, startTime: Date.now() });
    await produceClickstream(stack, topics.clickstream, events, 1);

    // Fill the AOF past the limit: Redis then refuses every write with MISCONF until it can write again.
    await redis.client.set(`${prefix}filler`, 'x'.repeat(2 * FILE_LIMIT));
    await until(async () => (await aofWriteStatus()) === 'err');
    await expect(redis.client.set(`${prefix}probe`, '1')).rejects.toThrow(/MISCONF/);

    const warnings: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _encoding, done) {
          warnings.push(String(chunk));
          done();
        },
      }),
    );
    const config = topologyConfig({
      kafka: { topics },
      redis: { keyPrefix: prefix },
      stream: { maxBatchRecords: 50, retryInitialMs: 20, retryMaxMs: 100 },
    });
    const topology = await startStreamTopology({
      config,
      kafka: stack.kafka,
      codec: stack.codec,
      redis: redis.client,
      logger,
    });
    try {
      // The topology has met the full disk several times before space comes back.
      await until(() => warnings.filter((w) => w.includes('MISCONF')).length >= 3);
      execFileSync('prlimit', ['--pid', String(redis.server.pid), '--fsize=unlimited']);
      await until(async () => (await aofWriteStatus()) === 'ok');
      await waitForOffsets(redis.client, prefix, config.stream.groupId, topics.clickstream, [
        events.length - 1,
      ]);
    } finally {
      await topology.close();
    }
    // Nothing went to the dead-letter topic: every record was good, and each was folded once.
    const deadLetterEnds = await stack.admin.fetchTopicOffsets(topics.deadLetter);
    expect(deadLetterEnds.map((p) => Number(p.high))).toEqual([0]);
    const tp = { topic: topics.clickstream, partition: 0 };
    const stats = await redis.client.hgetall(partitionKey(prefix, tp, 'stats'));
    expect(Object.keys(stats).filter((k) => k.startsWith('dlq:'))).toEqual([]);
    const { differences } = await compareEventsWithState(redis.client, prefix, tp, events);
    expect(differences).toEqual([]);
  });
});
