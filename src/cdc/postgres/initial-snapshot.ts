/**
 * The initial snapshot, as Debezium's `initial` mode takes it: a temporary logical slot is created with an
 * exported snapshot, every row of the mapped tables is read in that snapshot and sent as a read (`op: 'r'`),
 * and once Kafka holds them all the temporary slot is copied into the persistent one. The persistent slot
 * therefore exists only after a complete snapshot, and starts exactly where the snapshot stands: a source
 * killed during its snapshot takes it again on its next start.
 *
 * Each table's rows are preceded by a truncate that stands just before the snapshot (commit LSN one below its
 * consistent point): the catalog then holds the table as the snapshot read it, and a row deleted while no slot
 * streamed the table (after `--drop-slot`, or on a replica promoted without the slot) leaves it; a change streamed
 * before the snapshot is older than the truncate, and the snapshot's reads are newer.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { CroupierError } from '../../errors/index.ts';
import type { Logger } from '../../log/logger.ts';
import { tableSql } from './catalog.ts';
import { type ChangeOrigin, type ChangeRecord, rowRecord, truncateRecord } from './change-records.ts';
import type { RowMapping } from './column-mapping.ts';
import { lsnToNumber } from './lsn.ts';

export interface SnapshotOptions {
  connectionString: string;
  slot: string;
  db: string;
  mappings: readonly { table: string; mapping: RowMapping }[];
  /** Sends one record (waits while the sink is full). */
  add(record: ChangeRecord): Promise<void>;
  /** Resolves once every record added is acknowledged by Kafka. */
  flush(): Promise<void>;
  logger: Logger;
  /** Rows fetched per round trip. */
  fetchRows?: number;
}

/** How long the snapshot's slot waits for open transactions before each warning that names them (ms). */
const OPEN_TRANSACTIONS_REPORT_MS = 5000;

/**
 * Creating a logical slot waits for every transaction that holds a transaction id at that moment to end: one an
 * application leaves open holds the first start for as long. Until `creating` settles, a warning names them each
 * OPEN_TRANSACTIONS_REPORT_MS.
 */
async function reportOpenTransactions(
  reader: pg.Client,
  creating: Promise<unknown>,
  logger: Logger,
  slot: string,
): Promise<void> {
  let done = false;
  const settled = creating.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      settled,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, OPEN_TRANSACTIONS_REPORT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (done) return;
    const open = await reader
      .query<{ pid: number; usename: string; application_name: string; xact_start: Date }>(
        `SELECT pid, usename, application_name, xact_start FROM pg_stat_activity
          WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start`,
      )
      .then((r) => r.rows)
      .catch(() => []);
    if (done || open.length === 0) continue;
    const named = open
      .slice(0, 5)
      .map(
        (t) =>
          `pid ${t.pid} (${t.usename}${t.application_name ? `, ${t.application_name}` : ''}, open since ${t.xact_start.toISOString()})`,
      );
    logger.warn(
      { slot, pids: open.map((t) => t.pid) },
      `cdc: the initial snapshot waits for ${open.length} open transaction(s) to end (creating its replication slot waits for them): ${named.join('; ')}`,
    );
  }
}

/** Takes the snapshot and creates the persistent slot; resolves to the slot's start LSN. */
export async function takeSnapshot(options: SnapshotOptions): Promise<{ lsn: string; rows: number }> {
  const { logger } = options;
  // Unique per snapshot: two sources may snapshot at once, in processes of one pid on two hosts, or in one process.
  const temporary = `${options.slot.slice(0, 40)}_snapshot_${randomBytes(6).toString('hex')}`;
  const replication = new pg.Client({
    connectionString: options.connectionString,
    replication: 'database',
  } as pg.ClientConfig);
  const reader = new pg.Client({ connectionString: options.connectionString });
  // A connection lost between queries (a restart of the server) fails the next query; unheard, it would end the process.
  replication.on('error', () => {});
  reader.on('error', () => {});
  await replication.connect();
  try {
    await reader.connect();
    const creating = replication.query<{ consistent_point: string; snapshot_name: string }>(
      `CREATE_REPLICATION_SLOT "${temporary}" TEMPORARY LOGICAL pgoutput EXPORT_SNAPSHOT`,
    );
    await reportOpenTransactions(reader, creating, logger, options.slot);
    const created = await creating;
    const point = created.rows[0]!.consistent_point;
    const origin: ChangeOrigin = {
      db: options.db,
      lsn: lsnToNumber(point),
      txId: null,
      commitLsn: lsnToNumber(point),
      commitMs: Date.now(),
    };
    logger.info({ slot: options.slot, lsn: point }, 'cdc: taking the initial snapshot');
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await reader.query(`SET TRANSACTION SNAPSHOT '${created.rows[0]!.snapshot_name}'`);
    let rows = 0;
    const fetchRows = options.fetchRows ?? 2000;
    const before: ChangeOrigin = { ...origin, commitLsn: origin.commitLsn - 1, lsn: origin.commitLsn - 1 };
    for (const { table, mapping } of options.mappings) {
      await options.add(truncateRecord(mapping, before));
      await reader.query(`DECLARE croupier_snapshot NO SCROLL CURSOR FOR SELECT * FROM ${tableSql(table)}`);
      for (;;) {
        const batch = await reader.query(`FETCH ${fetchRows} FROM croupier_snapshot`);
        for (const row of batch.rows) {
          await options.add(rowRecord('r', mapping, row, origin));
          rows++;
        }
        if (batch.rows.length < fetchRows) break;
      }
      await reader.query('CLOSE croupier_snapshot');
    }
    await reader.query('COMMIT');
    await options.flush();
    // A replication connection takes simple queries only; both names are [a-z0-9_] (cdc.slot is validated).
    try {
      await replication.query(
        `SELECT pg_copy_logical_replication_slot('${temporary}', '${options.slot}', false)`,
      );
    } catch (error) {
      if (!slotExists(error as Error)) throw error;
      // Another source (a second croupier started at the same time) took its snapshot beside this one and
      // created the slot first. This one streams from that slot (or stands by while the other does); the reads
      // it sent stand before or after the other snapshot's truncate and apply as such.
      logger.warn(
        { slot: options.slot, lsn: point, rows },
        `cdc: another source created slot ${options.slot} while this one took its snapshot; going on from that slot`,
      );
      return { lsn: point, rows };
    }
    logger.info({ slot: options.slot, lsn: point, rows }, 'cdc: snapshot sent; replication slot created');
    return { lsn: point, rows };
  } catch (error) {
    if (error instanceof CroupierError) throw error;
    throw new CroupierError(
      'CROUPIER_ERR_CDC_STREAM',
      `the initial snapshot failed: ${(error as Error).message}`,
      { slot: options.slot },
      { cause: error },
    );
  } finally {
    await reader.end().catch(() => {});
    await replication.end().catch(() => {});
  }
}

/** Whether `error` says the replication slot exists already (SQLSTATE 42710). */
function slotExists(error: Error): boolean {
  return (
    (error as { code?: unknown }).code === '42710' ||
    /replication slot ".*" already exists/.test(error.message)
  );
}
