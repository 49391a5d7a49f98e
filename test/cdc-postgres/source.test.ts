/**
 * The PostgreSQL CDC source against a real PostgreSQL (logical replication, pgoutput), the embedded broker and
 * registry, and the stream topology into a real redis-server: the snapshot and every change end up in the
 * catalog Redis holds, a restart resumes from the slot, and bad tables and dropped columns are refused with the fix.
 */
import pgLib from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSlot } from '../../src/cdc/postgres/catalog.ts';
import { type CdcConfig, type PostgresCdcHandle, startPostgresCdc } from '../../src/cdc/postgres/source.ts';
import { configSchema } from '../../src/config/index.ts';
import { type Logger, silentLogger } from '../../src/log/logger.ts';
import { partitionKey } from '../../src/state/layout/index.ts';
import { type KafkaStack, testTopics } from '../streams/support/stack.ts';
import type { TestPostgres } from '../support/postgres.ts';
import type { TestRedis } from '../support/redis.ts';
import { type CdcWorld, catalogInRedis, ITEMS_DDL, startCdcWorld, waitForSameCatalog } from './support.ts';

let world: CdcWorld;
let pg: TestPostgres;
let stack: KafkaStack;
let redis: TestRedis;
const topics = testTopics('cdcpg');
const prefix = 'cdcpg:';

beforeAll(async () => {
  world = await startCdcWorld('cdcpg');
  ({ pg, stack, redis } = world);
}, 60_000);

afterAll(async () => {
  await world?.close();
});

function cdcConfig(overrides: Partial<CdcConfig> = {}): CdcConfig {
  return configSchema.parse({ cdc: { postgresUrl: pg.url, lagCheckMs: 200, ...overrides } }).cdc;
}

function startSource(config: CdcConfig, logger: Logger = silentLogger()): Promise<PostgresCdcHandle> {
  return startPostgresCdc({ config, kafka: stack.kafka, codec: stack.codec, topics, logger });
}

describe('PostgreSQL CDC source', () => {
  it('snapshots the table, then streams inserts, updates and deletes into the catalog in Redis', async () => {
    await pg.sql(ITEMS_DDL);
    await pg.sql(
      `INSERT INTO items (item_id, title, tags) VALUES ('a', 'Alpha', '{x,y}'), ('b', 'Beta', '{}')`,
    );
    const source = await startSource(cdcConfig());
    try {
      expect(await waitForSameCatalog(pg, redis.client, prefix, topics.cdcItems, 2)).toBe(2);
      await pg.sql(`INSERT INTO items (item_id, title, category) VALUES ('c', 'Gamma', 'series')`);
      await pg.sql(`UPDATE items SET title = 'Alpha 2', available = false WHERE item_id = 'a'`);
      await pg.sql(`DELETE FROM items WHERE item_id = 'b'`);
      // One transaction that inserts, updates and deletes the same key, and changes a key.
      await pg.sql(`BEGIN; INSERT INTO items (item_id, title) VALUES ('d', 'Delta');
        UPDATE items SET title = 'Delta 2' WHERE item_id = 'd'; UPDATE items SET item_id = 'e' WHERE item_id = 'c'; COMMIT`);
      expect(await waitForSameCatalog(pg, redis.client, prefix, topics.cdcItems, 2)).toBe(3);
      const catalog = await catalogInRedis(redis.client, prefix, topics.cdcItems, 2);
      expect(catalog.get('a')).toMatchObject({ title: 'Alpha 2', available: false, tags: ['x', 'y'] });
      expect(catalog.get('e')).toMatchObject({ title: 'Gamma', category: 'series' });
      expect(source.metrics().sent).toEqual({ r: 2, c: 3, u: 2, d: 2, t: 1 });
      expect(source.metrics().confirmedLsn).toBeGreaterThan(0);
      // The slot follows what Kafka acknowledged, and its lag is read.
      await expect.poll(() => source.metrics().lag, { timeout: 5000 }).not.toBeNull();
      // PostgreSQL holds the confirmed position: the slot moved past the last commit.
      const [{ lsn: lastCommit }] = await pg.sql<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      await pg.sql(`UPDATE items SET title = 'Delta 3' WHERE item_id = 'd'`);
      await waitForSameCatalog(pg, redis.client, prefix, topics.cdcItems, 2);
      await expect
        .poll(
          async () =>
            (
              await pg.sql<{ past: boolean }>(
                `SELECT confirmed_flush_lsn > $1::pg_lsn AS past FROM pg_replication_slots WHERE slot_name = 'croupier'`,
                [lastCommit],
              )
            )[0]?.past,
          { timeout: 10_000 },
        )
        .toBe(true);
    } finally {
      await source.close();
    }
  }, 60_000);

  it('resumes from its slot after a restart: changes made while it was down arrive, no second snapshot', async () => {
    await pg.sql(`INSERT INTO items (item_id, title) VALUES ('f', 'Foxtrot')`);
    await pg.sql(`DELETE FROM items WHERE item_id = 'a'`);
    await pg.sql(`ALTER TABLE items ADD COLUMN rating int`); // a new column is ignored
    await pg.sql(`UPDATE items SET rating = 5, title = 'Echo' WHERE item_id = 'e'`);
    const source = await startSource(cdcConfig());
    try {
      expect(await waitForSameCatalog(pg, redis.client, prefix, topics.cdcItems, 2)).toBe(3);
      // An update that leaves a large (TOASTed) title unchanged keeps it.
      await pg.sql(
        `INSERT INTO items (item_id, title) SELECT 'g', string_agg(md5(g::text), '') FROM generate_series(1, 400) g`,
      );
      await pg.sql(`UPDATE items SET available = false WHERE item_id = 'g'`);
      expect(await waitForSameCatalog(pg, redis.client, prefix, topics.cdcItems, 2)).toBe(4);
      const g = (await catalogInRedis(redis.client, prefix, topics.cdcItems, 2)).get('g');
      expect(g?.title.length).toBe(12_800);
      expect(g?.available).toBe(false);
      expect(source.metrics().sent.r).toBe(0);
      expect(source.metrics().sent.d).toBe(1);
    } finally {
      await source.close();
    }
  }, 60_000);

  it('replicates TRUNCATE: the rows it removed leave the catalog on every partition, the rows after it stay', async () => {
    const source = await startSource(cdcConfig());
    try {
      expect(await waitForSameCatalog(pg, redis.client, prefix, topics.cdcItems, 2)).toBe(4);
      await pg.sql(`TRUNCATE items`);
      await pg.sql(`INSERT INTO items (item_id, title) VALUES ('h', 'Hotel')`);
      expect(await waitForSameCatalog(pg, redis.client, prefix, topics.cdcItems, 2)).toBe(1);
      // Within one transaction: the insert before the truncate goes, the one after it stays.
      await pg.sql(`BEGIN; INSERT INTO items (item_id, title) VALUES ('i', 'India'), ('k', 'Kilo');
        TRUNCATE items; INSERT INTO items (item_id, title) VALUES ('j', 'Juliett'); COMMIT`);
      expect(await waitForSameCatalog(pg, redis.client, prefix, topics.cdcItems, 2)).toBe(1);
      expect(source.metrics().sent.t).toBe(2); // the two TRUNCATEs: this start took no snapshot
    } finally {
      await source.close();
    }
  }, 60_000);

  it('stops, naming the column, when a mapped column is dropped', async () => {
    const source = await startSource(cdcConfig());
    try {
      await pg.sql(`ALTER TABLE items DROP COLUMN category`);
      await pg.sql(`UPDATE items SET title = 'Juliett 2' WHERE item_id = 'j'`);
      await expect(source.failed).rejects.toThrow(/category/);
    } finally {
      await source.close();
    }
    // And refuses to start until the mapping names another column.
    await expect(startSource(cdcConfig())).rejects.toThrow(/items' category/);
  }, 60_000);

  it('replicates a users table, warns while the slot holds more WAL than allowed, and starts over once its slot is dropped', async () => {
    await pg.sql(ITEMS_DDL.replace('CREATE TABLE items', 'CREATE TABLE shop_items'));
    await pg.sql(`INSERT INTO shop_items (item_id, title) VALUES ('s1', 'One')`);
    await pg.sql(
      `CREATE TABLE users (user_id text PRIMARY KEY, segment text, country text, subscribed boolean)`,
    );
    await pg.sql(`INSERT INTO users VALUES ('u1', 'new', 'FR', false), ('u2', 'casual', 'DE', true)`);
    const config = cdcConfig({
      itemsTable: 'shop_items',
      usersTable: 'users',
      slot: 'second',
      publication: 'second',
      lagWarnBytes: 0,
    });
    const warnings: { msg: string; slot?: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    const usersInRedis = async () => {
      const all: Record<string, string> = {};
      for (const partition of [0, 1])
        Object.assign(
          all,
          await redis.client.hgetall(partitionKey(prefix, { topic: topics.cdcUsers, partition }, 'users')),
        );
      return all;
    };
    let source = await startSource(config, logger);
    try {
      await pg.sql(`UPDATE users SET segment = 'premium', subscribed = true WHERE user_id = 'u1'`);
      await expect
        .poll(async () => JSON.parse((await usersInRedis()).u1 ?? '{}'), { timeout: 20_000 })
        .toEqual({ userId: 'u1', segment: 'premium', country: 'FR', subscribed: true });
      expect(JSON.parse((await usersInRedis()).u2 ?? '{}')).toEqual({
        userId: 'u2',
        segment: 'casual',
        country: 'DE',
        subscribed: true,
      });
      await expect
        .poll(() => warnings.some((w) => w.slot === 'second' && /holds \d+ bytes of WAL/.test(w.msg)), {
          timeout: 5000,
        })
        .toBe(true);
      expect(source.metrics().sent.r).toBe(3);
    } finally {
      await source.close();
    }
    const admin = new pgLib.Client({ connectionString: pg.url });
    await admin.connect();
    try {
      expect(await dropSlot(admin, 'second')).toBe(true);
      expect(await dropSlot(admin, 'second')).toBe(false);
    } finally {
      await admin.end();
    }
    // A row deleted while no slot streams the table: the new snapshot's truncate takes it out of the catalog.
    await pg.sql(`DELETE FROM users WHERE user_id = 'u2'`);
    source = await startSource(config);
    try {
      expect(source.metrics().sent).toMatchObject({ r: 2, t: 2 });
      await expect.poll(async () => Object.keys(await usersInRedis()), { timeout: 20_000 }).toEqual(['u1']);
    } finally {
      await source.close();
    }
  }, 60_000);

  it('refuses a table without a primary key, with the fix', async () => {
    await pg.sql(
      `CREATE TABLE nokey (item_id text, title text, category text, available boolean, created_at timestamptz)`,
    );
    const error = startSource(cdcConfig({ itemsTable: 'nokey', slot: 'nokey', publication: 'nokey' }));
    await expect(error).rejects.toThrow(/public\.nokey has no primary key/);
    await expect(error).rejects.toThrow(/ALTER TABLE public\.nokey REPLICA IDENTITY FULL/);
    await expect(error).rejects.toMatchObject({ code: 'CROUPIER_ERR_CDC_NO_KEY' });
  });
});
