/**
 * End to end: `croupier start` with cdc.postgresUrl set runs the PostgreSQL CDC source beside the gateway;
 * rows inserted, updated and deleted in PostgreSQL show up in the carousels dealt over a real WebSocket (new
 * items dealt, deleted and unavailable ones gone), the slot's lag is on the gateway's /metrics, and a source that
 * stopped is a /readyz warning.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CroupierHandle, startCroupier } from '../../src/app/start.ts';
import { parseConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { connectClient, eventually, type TestClient } from '../gateway/support.ts';
import { startTestPostgres, type TestPostgres } from '../support/postgres.ts';
import { ITEMS_DDL } from './support.ts';

let pg: TestPostgres;
let croupier: CroupierHandle;
let client: TestClient;

beforeAll(async () => {
  pg = await startTestPostgres();
  await pg.sql(ITEMS_DDL);
  await pg.sql(
    `INSERT INTO items (item_id, title) VALUES ('alpha', 'Alpha'), ('bravo', 'Bravo'), ('charlie', 'Charlie')`,
  );
  const config = parseConfig({
    gateway: { port: 0 },
    kafka: { partitions: 2 },
    log: { level: 'silent' },
    demo: { traffic: 'off' },
    jobs: { enabled: false },
    archive: { enabled: false },
    cdc: { postgresUrl: pg.url, lagCheckMs: 200 },
  });
  croupier = await startCroupier({ config, logger: silentLogger() });
  client = await connectClient(croupier.gatewayUrl.replace(/^http/, 'ws').replace(/\/?$/, '/ws'));
  client.send({ type: 'hello', userId: 'u1', context: { device: 'mobile' } });
  await client.next((m) => m.type === 'welcome');
}, 120_000);

afterAll(async () => {
  client?.close();
  await croupier?.close();
  await pg?.close();
});

let request = 0;
/** The items of one carousel of 10 slots: every live item, since the catalog is smaller. */
async function dealt(): Promise<string[]> {
  const requestId = `r${request++}`;
  client.send({ type: 'carousel', requestId, slots: 10 });
  const carousel = await client.next((m) => m.type === 'carousel' && m.requestId === requestId);
  return (carousel.items as { itemId: string }[]).map((i) => i.itemId).sort();
}

async function untilDealt(expected: string[]): Promise<void> {
  let last: string[] = [];
  await eventually(async () => {
    last = await dealt();
    return JSON.stringify(last) === JSON.stringify(expected) ? true : undefined;
  }, 30_000).catch(() => {
    throw new Error(`carousels deal ${JSON.stringify(last)}, expected ${JSON.stringify(expected)}`);
  });
}

describe('croupier start with a PostgreSQL catalog', () => {
  it('deals the rows of the snapshot', async () => {
    await untilDealt(['alpha', 'bravo', 'charlie']);
  }, 60_000);

  it('deals an inserted row, and stops dealing deleted and unavailable ones', async () => {
    await pg.sql(`INSERT INTO items (item_id, title, category) VALUES ('delta', 'Delta', 'series')`);
    await untilDealt(['alpha', 'bravo', 'charlie', 'delta']);
    await pg.sql(`DELETE FROM items WHERE item_id = 'alpha'`);
    await untilDealt(['bravo', 'charlie', 'delta']);
    await pg.sql(`UPDATE items SET available = false WHERE item_id = 'bravo'`);
    await untilDealt(['charlie', 'delta']);
    await pg.sql(`UPDATE items SET available = true WHERE item_id = 'bravo'`);
    await untilDealt(['bravo', 'charlie', 'delta']);
  }, 60_000);

  it('stops dealing every row a TRUNCATE removed, and deals the rows inserted after it', async () => {
    await pg.sql(`BEGIN; TRUNCATE items; INSERT INTO items (item_id, title) VALUES ('echo', 'Echo'); COMMIT`);
    await untilDealt(['echo']);
    await pg.sql(
      `INSERT INTO items (item_id, title) VALUES ('bravo', 'Bravo'), ('charlie', 'Charlie'), ('delta', 'Delta')`,
    );
    await pg.sql(`DELETE FROM items WHERE item_id = 'echo'`);
    await untilDealt(['bravo', 'charlie', 'delta']);
  }, 60_000);

  it("puts the slot's lag and the records sent on the gateway's /metrics", async () => {
    const text = await eventually(async () => {
      const page = await (await fetch(`${croupier.gatewayUrl.replace(/\/$/, '')}/metrics`)).text();
      return page.includes('croupier_cdc_slot_lag_bytes{slot="croupier"}') ? page : undefined;
    });
    expect(text).toMatch(/croupier_cdc_records_total\{slot="croupier",op="r"\} 3\n/);
    expect(text).toMatch(/croupier_cdc_records_total\{slot="croupier",op="c"\} 5\n/);
    expect(text).toMatch(/croupier_cdc_records_total\{slot="croupier",op="t"\} 2\n/);
  });

  it('says on /readyz, ready still, when the source stopped, and goes on dealing the catalog it has', async () => {
    await pg.sql(`ALTER PUBLICATION croupier DROP TABLE items`);
    const readyz = await eventually(async () => {
      const response = await fetch(`${croupier.gatewayUrl.replace(/\/$/, '')}/readyz`);
      const body = (await response.json()) as { ready: boolean; warnings: string[] };
      return body.warnings.some((w) => /CDC source \(slot croupier\) is not streaming/.test(w))
        ? { status: response.status, body }
        : undefined;
    });
    expect(readyz.status).toBe(200);
    expect(readyz.body.ready).toBe(true);
    expect(await dealt()).toEqual(['bravo', 'charlie', 'delta']);
  });
});
