/**
 * Kills the topology (`kill -9`, in a child process) at random moments, at least 20 times, while a producer
 * writes 1,000,000 events over 6 partitions; a second instance joins and leaves mid-stream (a rebalance).
 * At the end, every counter in Redis equals an independent reference fold: nothing lost, nothing doubled.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionKey } from '../../src/state/layout/index.ts';
import { examinationTable } from '../../streams/fold/position-bias.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { compareWithReference } from './support/compare-state.ts';
import { generateClickstream, seeded } from './support/events.ts';
import { emptyReference, referenceApply } from './support/reference-fold.ts';
import {
  createTopics,
  type KafkaStack,
  partitionOf,
  startKafkaStack,
  testTopics,
  topologyConfig,
  waitForOffsets,
} from './support/stack.ts';
import type { ChildDescription } from './support/topology-child.ts';

const EVENTS = 1_000_000;
const PARTITIONS = 6;
const KILLS = 20;
const CHILD = fileURLToPath(new URL('./support/topology-child.ts', import.meta.url));

let stack: KafkaStack;
let redis: TestRedis;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  [stack, redis] = await Promise.all([startKafkaStack(), startTestRedis()]);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await stack?.close();
  await redis?.close();
});

interface Child {
  process: ChildProcess;
  /** Starts the topology in this (already loaded) process. */
  start(): void;
  /** Resolves when the child first positioned partitions at the offsets Redis holds. */
  assigned: Promise<void>;
  exited: Promise<void>;
}

/** Spawns a warm spare: it loads its modules now (seconds) and starts its topology on `start()`. */
function spawnChild(description: ChildDescription): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, TOPOLOGY_CHILD: JSON.stringify(description), TOPOLOGY_CHILD_WAIT: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  let seenAssigned: () => void = () => undefined;
  const assigned = new Promise<void>((resolve) => {
    seenAssigned = resolve;
  });
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer = (buffer + chunk.toString()).slice(-4096);
    if (buffer.includes('partitions assigned')) seenAssigned();
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      seenAssigned();
      resolve();
    }),
  );
  return { process: child, start: () => child.stdin?.write('start\n'), assigned, exited };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash test', () => {
  it('loses and doubles nothing across 20 kill -9 restarts and a rebalance', {
    timeout: 400_000,
  }, async () => {
    const prefix = redis.prefix();
    const topics = testTopics(`crash${Date.now()}`);
    await createTopics(stack.admin, topics, PARTITIONS);
    await stack.codec.registerAll(topics);
    const config = topologyConfig({
      kafka: { topics },
      redis: { keyPrefix: prefix },
      stream: { sessionTimeoutMs: 1500, maxBatchRecords: 2000, commitIntervalMs: 500 },
    });
    const description: ChildDescription = {
      brokers: stack.broker.brokers,
      registryUrl: stack.registry.url,
      redis: { host: redis.server.host, port: redis.server.port },
      config,
    };

    // About 3.6 events per request (a third of the requests logged as one Carousel, the rest as Impressions);
    // small ids keep the Avro records small.
    const events = generateClickstream({
      seed: 42,
      users: 5000,
      items: 400,
      requests: Math.ceil(EVENTS / 2.8),
      carouselShare: 0.3,
    }).slice(0, EVENTS);
    expect(events.length).toBe(EVENTS);
    const byPartition = events.map((e) => partitionOf(e.event.userId, PARTITIONS));

    const producing = (async () => {
      for (let i = 0; i < events.length; i += 20_000) {
        const messages = [];
        for (let j = i; j < Math.min(i + 20_000, events.length); j++) {
          const e = events[j];
          messages.push({
            key: e.event.userId,
            partition: byPartition[j],
            value: stack.codec.encodeSync(topics.clickstream, e.type, e.event as never),
          });
        }
        await stack.producer.send({ topic: topics.clickstream, acks: -1, messages });
      }
    })();

    const rand = seeded(99);
    let second: Child | undefined;
    let spare = spawnChild(description);
    for (let kill = 1; kill <= KILLS; kill++) {
      const child = spare;
      child.start();
      spare = spawnChild(description);
      if (kill === 6) {
        second = spawnChild(description);
        second.start();
      }
      await child.assigned;
      await sleep(100 + rand() * 900);
      child.process.kill('SIGKILL');
      await child.exited;
      if (kill === 12 && second) {
        second.process.kill('SIGTERM');
        await second.exited;
      }
    }
    await producing;

    const final = spare;
    final.start();
    const counts = Array.from({ length: PARTITIONS }, () => 0);
    for (const p of byPartition) counts[p]++;
    await waitForOffsets(
      redis.client,
      prefix,
      config.stream.groupId,
      topics.clickstream,
      counts.map((n) => n - 1),
      240_000,
    );
    final.process.kill('SIGTERM');
    await final.exited;

    const perPartition = Array.from({ length: PARTITIONS }, () => ({
      ref: emptyReference(),
      shown: new Map<string, string>(),
    }));
    events.forEach((e, i) => {
      const p = perPartition[byPartition[i]];
      referenceApply(
        p.ref,
        p.shown,
        e,
        config.stream.recentClicks,
        examinationTable(config.stream.positionBias),
      );
    });
    let batches = 0;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const tp = { topic: topics.clickstream, partition };
      const diff = await compareWithReference(redis.client, prefix, tp, perPartition[partition].ref, {
        halfLifeMs: config.stream.decayHalfLifeSeconds * 1000,
      });
      expect(diff.slice(0, 10)).toEqual([]);
      batches += Number(await redis.client.hget(partitionKey(prefix, tp, 'stats'), 'batches'));
    }
    expect(batches).toBeGreaterThan(KILLS);
  });
});
