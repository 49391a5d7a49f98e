/**
 * Crash test of the PostgreSQL CDC source: `croupier cdc` runs as a child process and is killed with SIGKILL
 * CDC_CRASH_KILLS times while writers commit CDC_CRASH_CHANGES row changes (inserts, updates and deletes, in
 * transactions of up to 20) to the items table; each time it is started again at once. In `npm test`: 5 kills
 * during 25,000 changes (about a minute, most of it the restarts); `npm run chaos:cdc`: the full 10 kills during
 * 50,000 changes (about two minutes on 2 busy cores). Afterwards
 * the catalog the stream topology folded into Redis equals the table, row for row: nothing a crash interrupted
 * was lost (the slot moved only past what Kafka held), and nothing re-sent took a row back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pgLib from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaStack, testTopics } from '../streams/support/stack.ts';
import type { TestPostgres } from '../support/postgres.ts';
import type { TestRedis } from '../support/redis.ts';
import { type CdcWorld, ITEMS_DDL, startCdcWorld, waitForSameCatalog } from './support.ts';

const CHANGES = Number(process.env.CDC_CRASH_CHANGES ?? 25_000);
const KILLS = Number(process.env.CDC_CRASH_KILLS ?? 5);
const WRITERS = 2;
// Many keys, few changes each: a row carries its whole image, so only a lost last change of a key shows.
const KEYS = 40_000;
const BIN = fileURLToPath(new URL('../../bin/croupier.js', import.meta.url));

let world: CdcWorld;
let pg: TestPostgres;
let stack: KafkaStack;
let redis: TestRedis;
const topics = testTopics('cdccrash');
const prefix = 'cdccrash:';

beforeAll(async () => {
  world = await startCdcWorld('cdccrash');
  ({ pg, stack, redis } = world);
}, 60_000);

afterAll(async () => {
  await world?.close();
});

/** The source as a child process; `streaming` resolves once it says it streams (its start takes seconds). */
function startSource(): { child: ChildProcess; exited: Promise<number | null>; streaming: Promise<void> } {
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
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  const streaming = new Promise<void>((resolve) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('cdc: slot ')) resolve();
    });
    void exited.then(() => resolve());
  });
  return { child, exited, streaming };
}

/** Changes committed so far, by all writers, and how far they may go (the kill loop opens one chunk at a time). */
let committed = 0;
let allowed = 0;

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
      while (committed >= allowed) await new Promise((r) => setTimeout(r, 5));
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
      `INSERT INTO items (item_id, title) SELECT 'i' || g, 'seed' || g FROM generate_series(0, 2000) g`,
    );
    let source = startSource();
    const writers = Promise.all(
      Array.from({ length: WRITERS }, (_, w) => write(w, Math.ceil(CHANGES / WRITERS), 17 + w)),
    );
    let kills = 0;
    let killedWhileWriting = 0;
    // The changes come in KILLS + 1 chunks. Once the running source streams, the next chunk is let through, and
    // the source is killed at a random point of it: the writers go on committing while it is down and starting.
    const chunk = Math.ceil(CHANGES / (KILLS + 1));
    while (kills < KILLS) {
      await source.streaming;
      const from = allowed;
      allowed += chunk;
      const target = from + Math.random() * chunk;
      while (committed < target) await new Promise((r) => setTimeout(r, 5));
      if (committed < CHANGES) killedWhileWriting++;
      source.child.kill('SIGKILL');
      await source.exited;
      kills++;
      source = startSource();
    }
    await source.streaming;
    allowed = Number.POSITIVE_INFINITY;
    await writers;
    try {
      const rows = await waitForSameCatalog(pg, redis.client, prefix, topics.cdcItems, 2, 120_000);
      expect(rows).toBeGreaterThan(0);
      expect(killedWhileWriting).toBe(KILLS);
    } finally {
      source.child.kill('SIGTERM');
      await source.exited;
    }
  }, 300_000);
});
