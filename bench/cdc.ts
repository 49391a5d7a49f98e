/**
 * CDC latency: the time from a row committed in PostgreSQL until the gateway deals it in a carousel (insert),
 * or stops dealing it (delete).
 *
 * Real processes end to end: a PostgreSQL with wal_level = logical and its default synchronous commit
 * (test/support/postgres.ts), and
 * `croupier start` in this process with cdc.postgresUrl set (embedded broker and registry, a redis-server, the
 * stream topology, the gateway, the CDC source). A client commits one row at a time (autocommit) into a catalog
 * of a few items; the clock starts when the INSERT (or DELETE) returns, i.e. once PostgreSQL acknowledged the
 * commit, and stops at the first carousel (10 slots, more than the catalog has, asked for every 2 ms over a
 * real WebSocket) that shows the change. Prints a table and writes bench/results/cdc.json.
 *
 *   npm run bench:cdc [-- --changes 300]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startCroupier } from '../src/app/start.ts';
import { parseConfig } from '../src/config/index.ts';
import { silentLogger } from '../src/log/logger.ts';
import { connectClient } from '../test/gateway/support.ts';
import { startTestPostgres } from '../test/support/postgres.ts';

const { values: args } = parseArgs({ options: { changes: { type: 'string', default: '300' } } });
const CHANGES = Number(args.changes);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  // PostgreSQL's default commit: the tests' asynchronous commit adds up to wal_writer_delay (200 ms) before a
  // change can be replicated, which no production database with default settings waits.
  const database = await startTestPostgres({ synchronousCommit: true });
  await database.sql(`CREATE TABLE items (item_id text PRIMARY KEY, title text NOT NULL, category text NOT NULL DEFAULT 'film',
    tags text[] NOT NULL DEFAULT '{}', available boolean NOT NULL DEFAULT true, created_at timestamptz NOT NULL DEFAULT now())`);
  await database.sql(
    `INSERT INTO items (item_id, title) SELECT 'base' || g, 'Base ' || g FROM generate_series(1, 4) g`,
  );
  const croupier = await startCroupier({
    config: parseConfig({
      // A carousel every 2 ms is past the per-connection default of 200 messages a second.
      gateway: { port: 0, maxMessagesPerSecond: 5000 },
      kafka: { partitions: 4 },
      log: { level: 'silent' },
      demo: { traffic: 'off' },
      jobs: { enabled: false },
      archive: { enabled: false },
      cdc: { postgresUrl: database.url },
    }),
    logger: silentLogger(),
  });
  const client = await connectClient(croupier.gatewayUrl.replace(/^http/, 'ws').replace(/\/?$/, '/ws'));
  client.send({ type: 'hello', userId: 'bench', context: { device: 'mobile' } });
  await client.next((m) => m.type === 'welcome');
  let request = 0;
  const dealt = async (): Promise<Set<string>> => {
    const requestId = `r${request++}`;
    client.send({ type: 'carousel', requestId, slots: 10 });
    const carousel = await client.next((m) => m.type === 'carousel' && m.requestId === requestId);
    return new Set((carousel.items as { itemId: string }[]).map((i) => i.itemId));
  };
  const until = async (shown: (items: Set<string>) => boolean, timeoutMs = 30_000): Promise<void> => {
    const deadline = performance.now() + timeoutMs;
    while (!shown(await dealt())) {
      if (performance.now() > deadline) throw new Error('the change did not reach the carousels in 30 s');
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  await until((items) => items.has('base1'), 120_000);

  const writer = new pg.Client({ connectionString: database.url });
  await writer.connect();
  const inserts: number[] = [];
  const deletes: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const id = `new${i}`;
    await writer.query(`INSERT INTO items (item_id, title) VALUES ($1, $1)`, [id]);
    let start = performance.now();
    await until((items) => items.has(id));
    inserts.push(performance.now() - start);
    await writer.query('DELETE FROM items WHERE item_id = $1', [id]);
    start = performance.now();
    await until((items) => !items.has(id));
    deletes.push(performance.now() - start);
  }
  await writer.end();
  client.close();
  await croupier.close();
  await database.close();

  const summary = (name: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return {
      change: name,
      n: sorted.length,
      p50Ms: Math.round(quantile(sorted, 0.5) * 10) / 10,
      p99Ms: Math.round(quantile(sorted, 0.99) * 10) / 10,
      maxMs: Math.round((sorted.at(-1) ?? 0) * 10) / 10,
    };
  };
  const rows = [summary('insert → dealt', inserts), summary('delete → gone', deletes)];
  const loadAfter = os.loadavg();
  console.log('commit in PostgreSQL → carousel (ms)');
  console.table(rows);
  console.log(
    `load average before ${loadBefore.map((l) => l.toFixed(1)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(1)).join(' ')}`,
  );
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/cdc.json',
    `${JSON.stringify({ at: new Date().toISOString(), changes: CHANGES, rows, loadBefore, loadAfter, cpus: os.cpus().length }, null, 2)}\n`,
  );
  console.log('wrote bench/results/cdc.json');
}

await main();
