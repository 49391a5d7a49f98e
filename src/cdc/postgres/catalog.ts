/**
 * What the CDC source reads from and sets up in PostgreSQL's catalog: the server's settings, a table's shape
 * (columns, replica identity, key), the publication and the replication slot. Every refusal says what to change.
 */
import type pg from 'pg';
import { CroupierError } from '../../errors/index.ts';
import type { ReplicaIdentity, TableShape } from './column-mapping.ts';

/** `items` → `public.items`; `shop.items` stays; quoted names are not supported. */
export function qualifiedName(table: string): { schema: string; table: string } {
  const dot = table.indexOf('.');
  return dot < 0 ? { schema: 'public', table } : { schema: table.slice(0, dot), table: table.slice(dot + 1) };
}

/** A quoted identifier, for SQL. */
export function columnSql(name: string): string {
  return ident(name);
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."table"`, for SQL. */
export function tableSql(table: string): string {
  const q = qualifiedName(table);
  return `${ident(q.schema)}.${ident(q.table)}`;
}

const IDENTITY: Record<string, ReplicaIdentity> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };

/** Refuses a server that cannot decode its WAL logically, naming the setting. */
export async function checkServer(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ wal_level: string }>('SHOW wal_level');
  if (rows[0]?.wal_level !== 'logical') {
    throw new CroupierError(
      'CROUPIER_ERR_CDC_DATABASE',
      `PostgreSQL runs with wal_level = ${rows[0]?.wal_level}: set wal_level = logical (postgresql.conf or ALTER SYSTEM) and restart it`,
    );
  }
}

export async function readTableShape(client: pg.Client, table: string): Promise<TableShape> {
  const q = qualifiedName(table);
  const rel = await client.query<{ oid: number; relreplident: string }>(
    `SELECT c.oid, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [q.schema, q.table],
  );
  const row = rel.rows[0];
  if (row === undefined) {
    throw new CroupierError('CROUPIER_ERR_CDC_DATABASE', `table ${q.schema}.${q.table} does not exist`, {
      table,
    });
  }
  const columns = await client.query<{ name: string; typeOid: number; typeCategory: string }>(
    `SELECT a.attname AS name, a.atttypid::int AS "typeOid", t.typcategory AS "typeCategory"
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [row.oid],
  );
  const replicaIdentity = IDENTITY[row.relreplident] ?? 'default';
  let identityColumns: string[] = [];
  if (replicaIdentity === 'full') identityColumns = columns.rows.map((c) => c.name);
  else if (replicaIdentity !== 'nothing') {
    const key = await client.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = $1 AND ${replicaIdentity === 'index' ? 'i.indisreplident' : 'i.indisprimary'}`,
      [row.oid],
    );
    identityColumns = key.rows.map((k) => k.name);
  }
  return { schema: q.schema, table: q.table, columns: columns.rows, replicaIdentity, identityColumns };
}

/** The tables of `tables` (as `schema.table`) that `publication` does not publish (all when it does not exist). */
export async function unpublishedTables(
  client: pg.Client,
  publication: string,
  tables: readonly string[],
): Promise<string[]> {
  const existing = await client.query<{ schemaname: string; tablename: string }>(
    'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1',
    [publication],
  );
  return tables
    .map(qualifiedName)
    .filter((q) => !existing.rows.some((r) => r.schemaname === q.schema && r.tablename === q.table))
    .map((q) => `${q.schema}.${q.table}`);
}

/** Creates the publication of `tables`, or adds the tables it lacks. */
export async function ensurePublication(client: pg.Client, publication: string, tables: readonly string[]) {
  const missing = await unpublishedTables(client, publication, tables);
  const exists = await publicationExists(client, publication);
  if (exists && missing.length === 0) return;
  const list = missing.map(tableSql).join(', ');
  const sql = exists
    ? `ALTER PUBLICATION ${ident(publication)} ADD TABLE ${list}`
    : `CREATE PUBLICATION ${ident(publication)} FOR TABLE ${list}`;
  try {
    await client.query(sql);
  } catch (error) {
    // Another source (a second croupier starting at the same time) may have made the same change first.
    if (await publicationHolds(client, publication, tables).catch(() => false)) return;
    throw new CroupierError(
      'CROUPIER_ERR_CDC_DATABASE',
      `cannot ${exists ? 'add tables to' : 'create'} publication ${publication} (${(error as Error).message}): run, as the tables' owner, ${sql};`,
      { publication },
      { cause: error },
    );
  }
}

async function publicationExists(client: pg.Client, publication: string): Promise<boolean> {
  return (
    ((await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication])).rowCount ?? 0) > 0
  );
}

/** Whether the publication exists and holds every one of `tables`. */
async function publicationHolds(client: pg.Client, publication: string, tables: readonly string[]) {
  return (
    (await publicationExists(client, publication)) &&
    (await unpublishedTables(client, publication, tables)).length === 0
  );
}

export interface SlotState {
  slot: string;
  confirmedFlushLsn: string | null;
}

/** The logical slot `slot` of this database, or null. */
export async function readSlot(client: pg.Client, slot: string): Promise<SlotState | null> {
  const { rows } = await client.query<{
    plugin: string;
    confirmed_flush_lsn: string | null;
    database: string;
  }>(`SELECT plugin, confirmed_flush_lsn, database FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
  const row = rows[0];
  if (row === undefined) return null;
  const db = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db;
  if (row.plugin !== 'pgoutput' || row.database !== db) {
    throw new CroupierError(
      'CROUPIER_ERR_CDC_DATABASE',
      `replication slot ${slot} exists but is not a pgoutput slot of database ${db} (plugin ${row.plugin}, database ${row.database}): choose another cdc.slot`,
      { slot },
    );
  }
  return { slot, confirmedFlushLsn: row.confirmed_flush_lsn };
}

/** The pid of the walsender that streams `slot` now (another source's, while it runs), or null when none does. */
export async function slotActivePid(client: pg.Client, slot: string): Promise<number | null> {
  const { rows } = await client.query<{ active_pid: number | null }>(
    'SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  return rows[0]?.active_pid ?? null;
}

/** Drops the slot (`croupier cdc --drop-slot`); false when there was none. */
export async function dropSlot(client: pg.Client, slot: string): Promise<boolean> {
  const { rowCount } = await client.query(
    'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  return (rowCount ?? 0) > 0;
}

export interface SlotLag {
  /** WAL written since the slot's confirmed position (bytes). */
  unconfirmedBytes: number;
  /** WAL the slot keeps on the database's disk (bytes since its restart position). */
  retainedBytes: number;
}

export async function readSlotLag(client: pg.Client, slot: string): Promise<SlotLag | null> {
  const { rows } = await client.query<{ unconfirmed: string | null; retained: string | null }>(
    `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS unconfirmed,
            pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = rows[0];
  if (row === undefined) return null;
  return { unconfirmedBytes: Number(row.unconfirmed ?? 0), retainedBytes: Number(row.retained ?? 0) };
}
