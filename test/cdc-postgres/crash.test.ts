/**
 * Crash test of the PostgreSQL CDC source: `croupier cdc` runs as a child process and is killed with SIGKILL
 * CDC_CRASH_KILLS times (10) while writers commit CDC_CRASH_CHANGES row changes (50,000: inserts, updates and
 * deletes, in transactions of up to 20) to the items table; each time it is started again at once. Afterwards
 * the catalog the stream topology folded into Redis equals the table, row for row: nothing a crash interrupted
 * was lost (the slot moved only past what Kafka held), and nothing re-sent took a row back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pgLib from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.ts';
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
import { ITEMS_DDL, waitForSameCatalog } from './support.ts';

const CHANGES = Number(process.env.CDC_CRASH_CHANGES ?? 50_000);
const KILLS = Number(process.env.CDC_CRASH_KILLS ?? 10);
const WRITERS = 2;
const KEYS = 3000;
const BIN = fileURLToPath(new URL('../../bin/croupier.js', import.meta.url));

let pg: TestPostgres;
let stack: KafkaStack;
let redis: TestRedis;
let topology: StreamTopology;
const topics = testTopics('cdccrash');
const prefix = 'cdccrash:';

beforeAll(async () => {
  [pg, stack, redis] = await Promise.all([startTestPostgres(), startKafkaStack(), startTestRedis()]);
  await createTopics(stack.admin, topics, 2);
  topology = await startStreamTopology({
    config: topologyConfig({ kafka: { topics }, redis: { keyPrefix: prefix } }),
    kafka: stack.kafka,
    codec: stack.codec,
    redis: redis.client,
    logger: silentLogger(),
  });
}, 60_000);

afterAll(async () => {
  await topology?.close();
  await Promise.all([pg?.close(), stack?.close(), redis?.close()]);
});

function startSource(): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'cdc',
      '--postgres',
      pg.url,
      '--set',
      `kafka.brokers=${JSON.stringify(stack.broker.brokers)}`,
      '--set',
      `schemaRegistry.url=${JSON.stringify(stack.registry.url)}`,
      '--set',
      `kafka.topics=${JSON.stringify(topics)}`,
      '--set',
      'log.level="warn"',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

/** Changes committed so far, by all writers. */
let committed = 0;

/** Commits `changes` random changes over keys `w, w + WRITERS, ...` in transactions of 1 to 20. */
async function write(writer: number, changes: number, seed: number): Promise<void> {
  const client = new pgLib.Client({ connectionString: pg.url });
  await client.connect();
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  try {
    let done = 0;
    while (done < changes) {
      const size = Math.min(changes - done, 1 + Math.floor(random() * 20));
      const statements: string[] = [];
      for (let i = 0; i < size; i++) {
        const id = `i${Math.floor(random() * (KEYS / WRITERS)) * WRITERS + writer}`;
        const r = random();
        if (r < 0.45)
          statements.push(
            `INSERT INTO items (item_id, title, tags) VALUES ('${id}', 't${done + i}', '{a,b}') ON CONFLICT (item_id) DO UPDATE SET title = 'c${done + i}'`,
          );
        else if (r < 0.85)
          statements.push(
            `UPDATE items SET title = 'u${done + i}', available = ${random() < 0.5} WHERE item_id = '${id}'`,
          );
        else statements.push(`DELETE FROM items WHERE item_id = '${id}'`);
      }
      await client.query(`BEGIN; ${statements.join('; ')}; COMMIT`);
      done += size;
      committed += size;
    }
  } finally {
    await client.end();
  }
}

describe('PostgreSQL CDC source killed with SIGKILL', () => {
  it(`loses and reverts nothing over ${KILLS} kills during ${CHANGES} committed changes`, async () => {
    await pg.sql(ITEMS_DDL);
    await pg.sql(
      `INSERT INTO items (item_id, title) SELECT 'i' || g, 'seed' || g FROM generate_series(0, ${KEYS / 2}) g`,
    );
    let source = startSource();
    const writers = Promise.all(
      Array.from({ length: WRITERS }, (_, w) => write(w, Math.ceil(CHANGES / WRITERS), 17 + w)),
    );
    let kills = 0;
    let killedWhileWriting = 0;
    // Kill i comes once i/(KILLS + 1) of the changes are committed, and the running source has had 300 ms to
    // get going (its start takes longer: it may be killed before it sends anything).
    while (kills < KILLS) {
      const due = ((kills + 1) * CHANGES) / (KILLS + 1);
      while (committed < due) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 1500));
      if (committed < CHANGES) killedWhileWriting++;
      source.child.kill('SIGKILL');
      await source.exited;
      kills++;
      source = startSource();
    }
    await writers;
    try {
      const rows = await waitForSameCatalog(pg, redis.client, prefix, topics.cdcItems, 2, 120_000);
      expect(rows).toBeGreaterThan(0);
      expect(killedWhileWriting).toBeGreaterThan(0);
    } finally {
      source.child.kill('SIGTERM');
      await source.exited;
    }
  }, 300_000);
});
