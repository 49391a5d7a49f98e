/**
 * What the PostgreSQL CDC suites share: the tables they replicate, the catalog as Redis holds it (every
 * partition of the items topic) and as the table holds it, and a wait until the two agree.
 */
import type { Redis } from 'ioredis';
import { silentLogger } from '../../src/log/logger.ts';
import { partitionKey } from '../../src/state/layout/index.ts';
import type { ItemRow } from '../../streams/schemas/index.ts';
import { type StreamTopology, startStreamTopology } from '../../streams/topology.ts';
import {
  createTopics,
  type KafkaStack,
  startKafkaStack,
  testTopics,
  topologyConfig,
} from '../streams/support/stack.ts';
import { startTestPostgres, type TestPostgres } from '../support/postgres.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

/** A PostgreSQL, the embedded broker and registry, a redis-server, and a stream topology folding topics of `tag`. */
export interface CdcWorld {
  pg: TestPostgres;
  stack: KafkaStack;
  redis: TestRedis;
  topology: StreamTopology;
  topics: ReturnType<typeof testTopics>;
  /** The topology's Redis key prefix. */
  prefix: string;
  close(): Promise<void>;
}

export async function startCdcWorld(tag: string): Promise<CdcWorld> {
  const [pg, stack, redis] = await Promise.all([startTestPostgres(), startKafkaStack(), startTestRedis()]);
  const topics = testTopics(tag);
  const prefix = `${tag}:`;
  await createTopics(stack.admin, topics, 2);
  const topology = await startStreamTopology({
    config: topologyConfig({ kafka: { topics }, redis: { keyPrefix: prefix } }),
    kafka: stack.kafka,
    codec: stack.codec,
    redis: redis.client,
    logger: silentLogger(),
  });
  return {
    pg,
    stack,
    redis,
    topology,
    topics,
    prefix,
    async close() {
      await topology.close();
      await Promise.all([pg.close(), stack.close(), redis.close()]);
    },
  };
}

export const ITEMS_DDL = `CREATE TABLE items (
  item_id text PRIMARY KEY,
  title text NOT NULL,
  category text NOT NULL DEFAULT 'film',
  tags text[] NOT NULL DEFAULT '{}',
  available boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT '2026-01-01T00:00:00Z'
)`;

/** itemId → row JSON, as the topology stored it across the topic's partitions. */
export async function catalogInRedis(
  redis: Redis,
  prefix: string,
  topic: string,
  partitions: number,
): Promise<Map<string, ItemRow>> {
  const out = new Map<string, ItemRow>();
  for (let partition = 0; partition < partitions; partition++) {
    const rows = await redis.hgetall(partitionKey(prefix, { topic, partition }, 'items'));
    for (const [id, json] of Object.entries(rows)) out.set(id, JSON.parse(json) as ItemRow);
  }
  return out;
}

/** The items table as ItemRows, by itemId. */
export async function catalogInTable(pg: TestPostgres, table = 'items'): Promise<Map<string, ItemRow>> {
  const rows = await pg.sql<{
    item_id: string;
    title: string;
    category: string;
    tags: string[];
    available: boolean;
    created_at: Date;
  }>(`SELECT * FROM ${table}`);
  return new Map(
    rows.map((r) => [
      r.item_id,
      {
        itemId: r.item_id,
        title: r.title,
        category: r.category,
        tags: r.tags,
        available: r.available,
        createdAt: r.created_at.getTime(),
      },
    ]),
  );
}

function sorted(m: Map<string, ItemRow>): [string, ItemRow][] {
  return [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Waits until Redis holds exactly the table's rows; throws with the first difference after `timeoutMs`. */
export async function waitForSameCatalog(
  pg: TestPostgres,
  redis: Redis,
  prefix: string,
  topic: string,
  partitions: number,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const want = sorted(await catalogInTable(pg));
    const have = sorted(await catalogInRedis(redis, prefix, topic, partitions));
    if (JSON.stringify(want) === JSON.stringify(have)) return want.length;
    if (Date.now() > deadline) {
      const missing = want.filter(([id]) => !have.some(([h]) => h === id)).length;
      const extra = have.filter(([id]) => !want.some(([w]) => w === id)).length;
      const differ = want.filter(
        ([id, row]) => JSON.stringify(have.find(([h]) => h === id)?.[1] ?? row) !== JSON.stringify(row),
      );
      throw new Error(
        `Redis catalog differs from the table: ${want.length} rows in the table, ${have.length} in Redis, ${missing} missing, ${extra} extra, ${differ.length} different (first: ${JSON.stringify(differ[0])})`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
