/**
 * A Kafka log that starts again under a Redis that kept its state (an in-memory broker restarted beside a
 * persistent redis-server; on a cluster, a topic deleted and made again): the offsets Redis holds are past the
 * new log's end. The topology says so, counts it, keeps the folded state and applies every record of the new log
 * exactly once, also when it crashed right after moving one partition's offset.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartBrokerOptions } from '../../src/broker/index.ts';
import { partitionKey } from '../../src/state/layout/index.ts';
import { createStateWriter } from '../../src/state/writer/index.ts';
import type { ClickstreamEvent } from '../../streams/schemas/index.ts';
import { startStreamTopology } from '../../streams/topology.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { compareWithReference, DEFAULT_EXAMINATION } from './support/compare-state.ts';
import { generateClickstream } from './support/events.ts';
import { emptyReference, referenceApply } from './support/reference-fold.ts';
import {
  createTopics,
  foldUntilOffsets,
  type KafkaStack,
  produceClickstream,
  startKafkaStack,
  testTopics,
  topologyConfig,
} from './support/stack.ts';

const PARTITIONS = 3;
let redis: TestRedis;
const stacks: KafkaStack[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  for (const stack of stacks) await stack.close().catch(() => undefined);
  await redis?.close();
});

async function freshStack(broker: StartBrokerOptions = {}): Promise<KafkaStack> {
  const stack = await startKafkaStack(broker);
  stacks.push(stack);
  return stack;
}

/** Waits until Redis holds exactly offset `expected[p]` of every partition `p`. */
async function waitForExactOffsets(
  prefix: string,
  groupId: string,
  topic: string,
  expected: readonly number[],
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = await Promise.all(
      expected.map((_, partition) =>
        redis.client.hget(partitionKey(prefix, { topic, partition }, 'offsets'), groupId),
      ),
    );
    if (stored.every((s, p) => Number(s ?? -1) === expected[p])) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Redis offsets of ${topic} are ${JSON.stringify(stored)}, expected ${JSON.stringify(expected)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a Kafka log that starts again under the state Redis kept', () => {
  it('keeps the folded state and applies every record of the new log exactly once, crash or not', async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`restart${Date.now()}`);
    const stream = { maxBatchRecords: 100, recentClicks: 5, stateCheckMs: 100 };
    const config = topologyConfig({ kafka: { topics }, redis: { keyPrefix: prefix }, stream });
    const { groupId } = config.stream;

    // The first log, folded into Redis.
    const first = await freshStack();
    await createTopics(first.admin, topics, PARTITIONS);
    const before = await produceClickstream(
      first,
      topics.clickstream,
      generateClickstream({ seed: 41, users: 30, items: 20, requests: 300 }),
      PARTITIONS,
    );
    await foldUntilOffsets(first, redis.client, prefix, topics, {
      [topics.clickstream]: before.map((p) => p.length - 1),
    });
    await first.close();
    stacks.splice(stacks.indexOf(first), 1);

    // The broker comes back without its log; Redis kept everything. The new log is shorter than what Redis holds.
    const second = await freshStack();
    await createTopics(second.admin, topics, PARTITIONS);
    const after = await produceClickstream(
      second,
      topics.clickstream,
      generateClickstream({ seed: 42, users: 30, items: 20, requests: 40, startTime: 1_790_000_000_000 }),
      PARTITIONS,
    );
    for (const [p, events] of after.entries()) expect(events.length).toBeLessThan(before[p].length - 1);

    // A topology that crashed right after moving partition 0's offset to the new log (the script ran, the seek
    // never happened): that partition is not moved again, and its records are applied once.
    const writer = createStateWriter({
      redis: redis.client,
      keyPrefix: prefix,
      groupId,
      changeFeedMaxLen: 1000,
      recentClicks: 5,
      halfLifeMs: 24 * 3600 * 1000,
      requestTtlSeconds: 1800,
    });
    await writer.init();
    const tp0 = { topic: topics.clickstream, partition: 0 };
    expect(await writer.startNewLog(tp0, before[0].length - 1, 0)).toEqual({ status: 'applied', offset: -1 });
    // The same repair again (a second topology, or a retry) writes nothing.
    expect(await writer.startNewLog(tp0, before[0].length - 1, 0)).toEqual({ status: 'moved', offset: -1 });

    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const topology = await startStreamTopology({
      config,
      kafka: second.kafka,
      codec: second.codec,
      redis: redis.client,
      logger,
    });
    let more: ClickstreamEvent[][] = [];
    try {
      await waitForExactOffsets(
        prefix,
        groupId,
        topics.clickstream,
        after.map((p) => p.length - 1),
      );
      // The new log grows past the offsets of the old one: nothing of it is skipped.
      more = await produceClickstream(
        second,
        topics.clickstream,
        generateClickstream({ seed: 43, users: 30, items: 20, requests: 400, startTime: 1_790_100_000_000 }),
        PARTITIONS,
      );
      const total = after.map((p, i) => p.length + more[i].length - 1);
      for (const [p, last] of total.entries()) expect(last).toBeGreaterThan(before[p].length - 1);
      await waitForExactOffsets(prefix, groupId, topics.clickstream, total);
      expect(topology.metrics().logRestarts).toBe(PARTITIONS - 1);
    } finally {
      await topology.close();
    }

    const restarts = lines.filter((l) => String(l.msg).includes('starts again'));
    expect(restarts.map((l) => l.partition).sort()).toEqual([1, 2].map((p) => `${topics.clickstream}:${p}`));
    for (const l of restarts) expect(l).toMatchObject({ logStart: 0, storedOffset: expect.any(Number) });
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const marker = await redis.client.hgetall(
        partitionKey(prefix, { topic: topics.clickstream, partition }, 'marker'),
      );
      expect(marker).toMatchObject({ epoch: expect.any(String), logEpoch: expect.any(String) });
      expect(marker.logEpochAfter).toBe(String(before[partition].length - 1));
      expect(marker.rebuildUntil).toBeUndefined();

      // Every event of the old log, then every event of the new one, each once.
      const ref = emptyReference();
      const shown = new Map<string, string>();
      for (const e of [...before[partition], ...after[partition], ...more[partition]])
        referenceApply(ref, shown, e, 5, DEFAULT_EXAMINATION);
      const diff = await compareWithReference(
        redis.client,
        prefix,
        { topic: topics.clickstream, partition },
        ref,
        { halfLifeMs: 24 * 3600 * 1000 },
      );
      expect(diff).toEqual([]);
    }
  });

  it('follows a topic deleted and made again while the topology runs', async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`remade${Date.now()}`);
    const config = topologyConfig({
      kafka: { topics },
      redis: { keyPrefix: prefix },
      stream: { maxBatchRecords: 100, recentClicks: 5, stateCheckMs: 100 },
    });
    const { groupId } = config.stream;
    // No topic is made by a metadata request: the consumer would make the deleted one again with one partition.
    const stack = await freshStack({ autoCreateTopics: false });
    await createTopics(stack.admin, topics, PARTITIONS);
    const before = await produceClickstream(
      stack,
      topics.clickstream,
      generateClickstream({ seed: 51, users: 30, items: 20, requests: 300 }),
      PARTITIONS,
    );
    const topology = await startStreamTopology({
      config,
      kafka: stack.kafka,
      codec: stack.codec,
      redis: redis.client,
      logger: pino({ level: process.env.LOG_RESTART_DEBUG ? 'debug' : 'silent' }),
    });
    let after: ClickstreamEvent[][] = [];
    try {
      await waitForExactOffsets(
        prefix,
        groupId,
        topics.clickstream,
        before.map((p) => p.length - 1),
      );
      await stack.admin.deleteTopics({ topics: [topics.clickstream] });
      await stack.admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: topics.clickstream, numPartitions: PARTITIONS }],
      });
      after = await produceClickstream(
        stack,
        topics.clickstream,
        generateClickstream({ seed: 52, users: 30, items: 20, requests: 40, startTime: 1_790_000_000_000 }),
        PARTITIONS,
      );
      await waitForExactOffsets(
        prefix,
        groupId,
        topics.clickstream,
        after.map((p) => p.length - 1),
      );
      expect(topology.metrics().logRestarts).toBe(PARTITIONS);
    } finally {
      await topology.close();
    }
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const ref = emptyReference();
      const shown = new Map<string, string>();
      for (const e of [...before[partition], ...after[partition]])
        referenceApply(ref, shown, e, 5, DEFAULT_EXAMINATION);
      const diff = await compareWithReference(
        redis.client,
        prefix,
        { topic: topics.clickstream, partition },
        ref,
        { halfLifeMs: 24 * 3600 * 1000 },
      );
      expect(diff).toEqual([]);
    }
  });
});
