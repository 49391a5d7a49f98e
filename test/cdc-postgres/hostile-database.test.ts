/**
 * The PostgreSQL CDC source against a database other applications write and run: its connections ended by the
 * server, rows with values the contracts cannot hold as they are. The source keeps streaming, and the catalog in
 * Redis ends equal to the table.
 */
import pgLib from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCdcMetrics } from '../../src/cdc/postgres/cdc-metrics-text.ts';
import { type CdcConfig, type PostgresCdcHandle, startPostgresCdc } from '../../src/cdc/postgres/source.ts';
import { configSchema } from '../../src/config/index.ts';
import { type Logger, silentLogger } from '../../src/log/logger.ts';
import { type KafkaStack, testTopics } from '../streams/support/stack.ts';
import type { TestPostgres } from '../support/postgres.ts';
import type { TestRedis } from '../support/redis.ts';
import { type CdcWorld, catalogInRedis, ITEMS_DDL, startCdcWorld, waitForSameCatalog } from './support.ts';

let world: CdcWorld;
let pg: TestPostgres;
let stack: KafkaStack;
let redis: TestRedis;
const topics = testTopics('cdchostile');
const prefix = 'cdchostile:';

beforeAll(async () => {
  world = await startCdcWorld('cdchostile');
  ({ pg, stack, redis } = world);
  await pg.sql(ITEMS_DDL);
}, 60_000);

afterAll(async () => {
  await world?.close();
});

/** The catalog in Redis, once it holds `itemId` (20 s at most). */
async function catalogHolding(itemId: string) {
  await expect
    .poll(async () => (await catalogInRedis(redis.client, prefix, topics.cdcItems, 2)).has(itemId), {
      timeout: 20_000,
    })
    .toBe(true);
  return catalogInRedis(redis.client, prefix, topics.cdcItems, 2);
}

function cdcConfig(overrides: Partial<CdcConfig> = {}): CdcConfig {
  return configSchema.parse({ cdc: { postgresUrl: pg.url, lagCheckMs: 200, ...overrides } }).cdc;
}

/** The source, and the error it stopped with (null while it runs). */
async function startSource(
  overrides: Partial<CdcConfig> = {},
  logger: Logger = silentLogger(),
): Promise<{ source: PostgresCdcHandle; stopped: () => Error | null }> {
  const source = await startPostgresCdc({
    config: cdcConfig(overrides),
    kafka: stack.kafka,
    codec: stack.codec,
    topics,
    logger,
  });
  let stopped: Error | null = null;
  source.failed.catch((error: Error) => {
    stopped = error;
  });
  return { source, stopped: () => stopped };
}

describe('PostgreSQL CDC source against a hostile database', () => {
  it('starts again from its slot when the server ends its connections, and loses no change', async () => {
    await pg.sql(`INSERT INTO items (item_id, title) VALUES ('a', 'Alpha'), ('b', 'Bravo')`);
    const { source, stopped } = await startSource();
    try {
      expect(await waitForSameCatalog(pg, redis.client, prefix, topics.cdcItems, 2)).toBe(2);
      // Every connection of the source ends, as in a restart of the server: the replication stream and the
      // idle connection that reads the slot's lag.
      const ended = await pg.sql(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      expect(ended.length).toBeGreaterThanOrEqual(2);
      await pg.sql(`INSERT INTO items (item_id, title) VALUES ('c', 'Charlie')`);
      await pg.sql(`UPDATE items SET title = 'Alpha 2' WHERE item_id = 'a'`);
      await pg.sql(`DELETE FROM items WHERE item_id = 'b'`);
      expect(await waitForSameCatalog(pg, redis.client, prefix, topics.cdcItems, 2)).toBe(2);
      expect((await catalogInRedis(redis.client, prefix, topics.cdcItems, 2)).get('a')?.title).toBe(
        'Alpha 2',
      );
      expect(stopped()).toBeNull();
      expect(source.metrics().sent).toMatchObject({ r: 2, c: 1, d: 1 });
      expect(renderCdcMetrics(source.metrics())).toContain('croupier_cdc_streaming{slot="croupier"} 1\n');
    } finally {
      await source.close();
    }
  }, 60_000);

  it('stands by while another source streams its slot, and takes the slot over once that one stops', async () => {
    const first = await startSource();
    const warnings: string[] = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => void warnings.push(JSON.parse(line).msg) },
    );
    let second: Awaited<ReturnType<typeof startSource>> | undefined;
    try {
      await pg.sql(`INSERT INTO items (item_id, title) VALUES ('s1', 'Standby 1')`);
      await catalogHolding('s1');
      // A second croupier with the same cdc.slot, as a replica for failover.
      second = await startSource({}, logger);
      await expect
        .poll(() => warnings.find((w) => /is streamed by another source .* standing by/.test(w)), {
          timeout: 20_000,
        })
        .toBeDefined();
      expect(second.stopped()).toBeNull();
      expect(renderCdcMetrics(second.source.metrics())).toContain(
        'croupier_cdc_streaming{slot="croupier"} 0\n',
      );
      expect(renderCdcMetrics(second.source.metrics())).toContain(
        'croupier_cdc_standby{slot="croupier"} 1\n',
      );
    } finally {
      await first.source.close();
    }
    try {
      // The first is gone: the second takes the slot over and streams what comes next, and nothing is lost.
      await pg.sql(`INSERT INTO items (item_id, title) VALUES ('s2', 'Standby 2')`);
      expect((await catalogHolding('s2')).get('s2')?.title).toBe('Standby 2');
      expect(await waitForSameCatalog(pg, redis.client, prefix, topics.cdcItems, 2)).toBe(4);
      expect(second.stopped()).toBeNull();
      expect(first.stopped()).toBeNull();
      expect(renderCdcMetrics(second.source.metrics())).toContain(
        'croupier_cdc_standby{slot="croupier"} 0\n',
      );
    } finally {
      await second.source.close();
    }
  }, 60_000);

  it('two sources started at once on a new slot: both snapshot, one creates the slot, the other stands by', async () => {
    await pg.sql(ITEMS_DDL.replace('CREATE TABLE items', 'CREATE TABLE twin_items'));
    // Enough rows that both snapshots run side by side (each found no slot).
    await pg.sql(
      `INSERT INTO twin_items (item_id, title) SELECT 'twin-' || g, 'Twin ' || g FROM generate_series(1, 20000) g`,
    );
    const config = { itemsTable: 'twin_items', slot: 'twin', publication: 'twin' };
    const warnings: string[] = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => void warnings.push(JSON.parse(line).msg) },
    );
    const both = await Promise.allSettled([startSource(config, logger), startSource(config, logger)]);
    const started = both.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      expect(both.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started'))).toEqual([
        'started',
        'started',
      ]);
      expect(
        warnings.some((w) => /another source created slot twin while this one took its snapshot/.test(w)),
      ).toBe(true);
      await expect
        .poll(() => started.filter((s) => s.source.metrics().streaming).length, { timeout: 20_000 })
        .toBe(1);
      await pg.sql(`DELETE FROM twin_items WHERE item_id = 'twin-7'`);
      await expect
        .poll(
          async () => {
            const catalog = await catalogInRedis(redis.client, prefix, topics.cdcItems, 2);
            return [catalog.has('twin-7'), catalog.has('twin-20000'), catalog.size];
          },
          { timeout: 20_000 },
        )
        .toEqual([false, true, 19_999]);
      // The one streaming stops: the other takes the slot over.
      const streaming = started.find((s) => s.source.metrics().streaming)!;
      const other = started.find((s) => s !== streaming)!;
      await streaming.source.close();
      await pg.sql(`INSERT INTO twin_items (item_id, title) VALUES ('twin-new', 'New')`);
      expect((await catalogHolding('twin-new')).size).toBe(20_000);
      expect(other.stopped()).toBeNull();
    } finally {
      for (const s of started) await s.source.close();
    }
  }, 90_000);

  it('reads infinite timestamps and times past a JavaScript Date as the furthest time the contract carries', async () => {
    const table = { itemsTable: 'far_items', slot: 'far', publication: 'far' };
    await pg.sql(ITEMS_DDL.replace('CREATE TABLE items', 'CREATE TABLE far_items'));
    await pg.sql(
      `INSERT INTO far_items (item_id, title, created_at) VALUES ('far-snapshot', 'x', 'infinity')`,
    );
    const { source, stopped } = await startSource(table);
    try {
      await pg.sql(`INSERT INTO far_items (item_id, title, created_at) VALUES ('far-past', 'x', '-infinity'),
        ('far-future', 'x', '294276-12-31 23:59:59+00')`);
      await pg.sql(`INSERT INTO far_items (item_id, title) VALUES ('far-after', 'x')`);
      const catalog = await catalogHolding('far-after');
      expect(catalog.get('far-snapshot')?.createdAt).toBe(2 ** 52 - 1);
      expect(catalog.get('far-past')?.createdAt).toBe(-(2 ** 52 - 1));
      expect(catalog.get('far-future')?.createdAt).toBe(2 ** 52 - 1);
      expect(stopped()).toBeNull();
    } finally {
      await source.close();
    }
  }, 60_000);

  it('sends a transaction and a snapshot of more bytes than Kafka takes in one batch', async () => {
    await pg.sql(ITEMS_DDL.replace('CREATE TABLE items', 'CREATE TABLE bulk_items'));
    // 2,000 rows of 1,100 characters: 2.2 MB, over 1 MiB in each partition's batch of one send of maxBatch records.
    await pg.sql(
      `INSERT INTO bulk_items (item_id, title) SELECT 'bulk-' || g, repeat('x', 1100) FROM generate_series(1, 2000) g`,
    );
    const { source, stopped } = await startSource({
      itemsTable: 'bulk_items',
      slot: 'bulk',
      publication: 'bulk',
    });
    try {
      await pg.sql(`UPDATE bulk_items SET title = repeat('y', 1100)`);
      const updated = async () =>
        [...(await catalogInRedis(redis.client, prefix, topics.cdcItems, 2))].filter(
          ([id, row]) => id.startsWith('bulk-') && row.title === 'y'.repeat(1100),
        ).length;
      await expect.poll(updated, { timeout: 30_000 }).toBe(2000);
      expect(stopped()).toBeNull();
      expect(source.metrics().sent).toMatchObject({ r: 2000, u: 2000 });
    } finally {
      await source.close();
    }
  }, 60_000);

  it('sends no change whose row holds megabytes, keeps the row as it was, and deletes by key', async () => {
    await pg.sql(ITEMS_DDL.replace('CREATE TABLE items', 'CREATE TABLE big_items'));
    await pg.sql(`ALTER TABLE big_items REPLICA IDENTITY FULL`);
    await pg.sql(`INSERT INTO big_items (item_id, title) VALUES ('big-snapshot', repeat('a', 2000000)),
      ('big-grown', 'Small'), ('big-deleted', 'Small')`);
    const { source, stopped } = await startSource({
      itemsTable: 'big_items',
      slot: 'big',
      publication: 'big',
    });
    try {
      await pg.sql(`INSERT INTO big_items (item_id, title) VALUES ('big-inserted', repeat('b', 2000000))`);
      await pg.sql(
        `INSERT INTO big_items (item_id, title, tags) VALUES ('big-tags', 'Tags', array_fill(''::text, ARRAY[1100000]))`,
      );
      await pg.sql(`UPDATE big_items SET title = repeat('c', 2000000) WHERE item_id = 'big-grown'`);
      // Under REPLICA IDENTITY FULL a delete carries the old row: of megabytes, it is sent with the key alone.
      await pg.sql(`UPDATE big_items SET title = repeat('d', 2000000) WHERE item_id = 'big-deleted'`);
      await pg.sql(`DELETE FROM big_items WHERE item_id = 'big-deleted'`);
      await pg.sql(`INSERT INTO big_items (item_id, title) VALUES ('big-after', 'After')`);
      const catalog = await catalogHolding('big-after');
      expect([...catalog.keys()].filter((id) => id.startsWith('big-')).sort()).toEqual([
        'big-after',
        'big-grown',
      ]);
      expect(catalog.get('big-grown')?.title).toBe('Small');
      expect(stopped()).toBeNull();
      expect(source.metrics().refused).toBe(5);
    } finally {
      await source.close();
    }
  }, 60_000);

  it('stops, naming the table and the fix, when its table leaves the publication', async () => {
    await pg.sql(ITEMS_DDL.replace('CREATE TABLE items', 'CREATE TABLE gone_items'));
    const { source, stopped } = await startSource({
      itemsTable: 'gone_items',
      slot: 'gone',
      publication: 'gone',
    });
    try {
      // PostgreSQL decodes no change of a table its publication lost, and tells the stream nothing of it.
      await pg.sql(`ALTER PUBLICATION gone DROP TABLE gone_items`);
      await pg.sql(`INSERT INTO gone_items (item_id, title) VALUES ('gone-1', 'Missed')`);
      await expect
        .poll(() => stopped()?.message, { timeout: 10_000 })
        .toMatch(/public\.gone_items is no longer in publication gone .*croupier cdc --drop-slot/);
      expect(stopped()).toMatchObject({ code: 'CROUPIER_ERR_CDC_DATABASE' });
      // Its metrics say it no longer streams.
      expect(renderCdcMetrics(source.metrics())).toContain('croupier_cdc_streaming{slot="gone"} 0\n');
    } finally {
      await source.close();
    }
  }, 60_000);

  it('stops for good, saying to take a new slot, when its publication is dropped', async () => {
    await pg.sql(ITEMS_DDL.replace('CREATE TABLE items', 'CREATE TABLE nopub_items'));
    const config = { itemsTable: 'nopub_items', slot: 'nopub', publication: 'nopub' };
    const first = await startSource(config);
    try {
      await pg.sql(`DROP PUBLICATION nopub`);
      await pg.sql(`INSERT INTO nopub_items (item_id, title) VALUES ('nopub-1', 'One')`);
      // Stopped by the stream or by the publication check, whichever sees it first.
      await expect
        .poll(() => first.stopped()?.message, { timeout: 10_000 })
        .toMatch(/does not exist|no longer in publication nopub/);
    } finally {
      await first.source.close();
    }
    // Started again, the source creates the publication, and the slot still cannot go past the drop.
    const second = await startSource(config);
    try {
      await expect
        .poll(() => second.stopped()?.message, { timeout: 10_000 })
        .toMatch(/publication "nopub" does not exist\..*croupier cdc --drop-slot, then start/);
      expect(second.stopped()).toMatchObject({ code: 'CROUPIER_ERR_CDC_DATABASE' });
    } finally {
      await second.source.close();
    }
  }, 60_000);

  it('names the open transactions its first start waits for', async () => {
    await pg.sql(ITEMS_DDL.replace('CREATE TABLE items', 'CREATE TABLE held_items'));
    // An application leaves a transaction open: creating the snapshot's slot waits for it to end.
    const writer = new pgLib.Client({ connectionString: pg.url, application_name: 'shop-writer' });
    await writer.connect();
    const warnings: string[] = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => void warnings.push(JSON.parse(line).msg) },
    );
    try {
      await writer.query(`BEGIN`);
      await writer.query(`INSERT INTO held_items (item_id, title) VALUES ('held-1', 'Held')`);
      const starting = startSource({ itemsTable: 'held_items', slot: 'held', publication: 'held' }, logger);
      await expect
        .poll(() => warnings.find((w) => /waits for 1 open transaction/.test(w)), { timeout: 20_000 })
        .toMatch(/pid \d+ \(croupier, shop-writer, open since /);
      await writer.query(`COMMIT`);
      const { source, stopped } = await starting;
      try {
        await catalogHolding('held-1');
        expect(stopped()).toBeNull();
      } finally {
        await source.close();
      }
    } finally {
      await writer.end();
    }
  }, 60_000);
});
