/**
 * The PostgreSQL CDC source: checks the database and the tables, creates the publication, takes the initial
 * snapshot when the replication slot does not exist yet, then streams every committed change into `cdc.items`
 * and `cdc.users`, moving the slot only past what Kafka has acknowledged. It also watches the slot's lag.
 * One way in: `startPostgresCdc(options)` returns a handle with `close()`; `failed` rejects when the source stops
 * on its own (a mapping that no longer holds, Kafka refusing the changes), so the process can exit and be restarted.
 * A lost connection to PostgreSQL (a restart of the server, a terminated backend) or to Kafka does not stop it:
 * the source starts again from its slot once both answer, re-sending from the last confirmed commit. A slot that
 * another source streams (a second replica of croupier, for failover) does not stop it either: it stands by,
 * looking every STANDBY_CHECK_MS, and takes the slot over once the other lets it go.
 */
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import type { Config } from '../../config/index.ts';
import { MAX_ROW_CHARS } from '../../domain/limits.ts';
import { CroupierError } from '../../errors/index.ts';
import type { EventCodec } from '../../kafka/index.ts';
import type { Logger } from '../../log/logger.ts';
import {
  checkServer,
  ensurePublication,
  qualifiedName,
  readSlot,
  readSlotLag,
  readTableShape,
  type SlotLag,
  slotActivePid,
  unpublishedTables,
} from './catalog.ts';
import { type ChangeRecord, oversizedRecord } from './change-records.ts';
import { type ContractKind, resolveMapping } from './column-mapping.ts';
import { takeSnapshot } from './initial-snapshot.ts';
import { createKafkaSink } from './kafka-sink.ts';
import { startReplicationStream } from './replication-stream.ts';

export type CdcConfig = Config['cdc'];

export interface PostgresCdcOptions {
  config: CdcConfig;
  kafka: Kafka;
  codec: Pick<EventCodec, 'encode'>;
  topics: { cdcItems: string; cdcUsers: string };
  logger: Logger;
}

export interface CdcMetricsSnapshot {
  slot: string;
  /** Records Kafka acknowledged, by op. */
  sent: Record<'r' | 'c' | 'u' | 'd' | 't', number>;
  /** Changes not sent because their row is oversized (more than MAX_ROW_CHARS characters, or tags). */
  refused: number;
  /** The slot's confirmed LSN (a number). */
  confirmedLsn: number;
  /** Last reading of the slot's lag, null before the first. */
  lag: SlotLag | null;
  /** The source streams changes: false before, once it stopped, and while it starts again after a lost connection. */
  streaming: boolean;
  /** The source stands by while another source (another croupier with this `cdc.slot`) streams the slot. */
  standby: boolean;
}

export interface PostgresCdcHandle {
  metrics(): CdcMetricsSnapshot;
  /** Rejects when the source stops on its own. */
  readonly failed: Promise<never>;
  close(): Promise<void>;
}

/** Waits before starting again after a lost connection: 1 s, doubling to 30 s. */
const RESTART_DELAYS_MS = [1000, 2000, 4000, 8000, 16_000, 30_000];
/** How often a source standing by (its slot streamed by another) looks whether the slot is free. */
const STANDBY_CHECK_MS = 2000;

export async function startPostgresCdc(options: PostgresCdcOptions): Promise<PostgresCdcHandle> {
  let current = await startSource(options);
  let closed = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let standingBy = false;
  const before = { r: 0, c: 0, u: 0, d: 0, t: 0, refused: 0 };
  let rejectFailed: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  failed.catch(() => {});

  function watch(source: PostgresCdcHandle): void {
    source.failed.catch(async (error: Error) => {
      if (closed || source !== current) return;
      if (!lostConnection(error) && slotInUse(error) === null) {
        rejectFailed(error);
        return;
      }
      const sent = source.metrics().sent;
      for (const op of ['r', 'c', 'u', 'd', 't'] as const) before[op] += sent[op];
      before.refused += source.metrics().refused;
      await source.close().catch(() => {});
      standingBy = false;
      for (let attempt = 0; !closed; attempt++) {
        const holder = slotInUse(error);
        const delay =
          holder !== null
            ? STANDBY_CHECK_MS
            : RESTART_DELAYS_MS[Math.min(attempt, RESTART_DELAYS_MS.length - 1)]!;
        if (holder === null) {
          standingBy = false;
          options.logger.warn(
            { err: error, delayMs: delay },
            `cdc: lost a connection (${error.message}); starting again from slot ${options.config.slot} in ${delay} ms`,
          );
        } else if (!standingBy) {
          standingBy = true;
          options.logger.warn(
            { slot: options.config.slot, pid: holder },
            `cdc: slot ${options.config.slot} is streamed by another source (PostgreSQL pid ${holder}: another croupier with this cdc.slot); standing by, taking it over once it is free`,
          );
        }
        await new Promise<void>((resolve) => {
          restartTimer = setTimeout(resolve, delay);
        });
        if (closed) return;
        if (holder !== null && (await slotStillHeld(options.config).catch(() => false))) continue;
        try {
          const next = await startSource(options);
          standingBy = false;
          if (closed) {
            await next.close();
            return;
          }
          current = next;
          watch(next);
          return;
        } catch (startError) {
          if (!lostConnection(startError as Error) && slotInUse(startError as Error) === null) {
            rejectFailed(startError as Error);
            return;
          }
          error = startError as Error;
        }
      }
    });
  }
  watch(current);

  return {
    failed,
    metrics() {
      const m = current.metrics();
      return {
        ...m,
        sent: {
          r: before.r + m.sent.r,
          c: before.c + m.sent.c,
          u: before.u + m.sent.u,
          d: before.d + m.sent.d,
          t: before.t + m.sent.t,
        },
        refused: before.refused + m.refused,
        standby: standingBy,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(restartTimer);
      await current.close();
    },
  };
}

/**
 * Whether `error` (or one of its causes) is a connection that was lost or refused: PostgreSQL shut down or
 * restarted (SQLSTATE class 57P), a connection exception (class 08), a terminated backend, a socket error (of
 * PostgreSQL's connections or Kafka's).
 */
export function lostConnection(error: Error): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^(57P0[1-3]|08...|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT)$/.test(code))
      return true;
    if (
      /Connection terminated|terminating connection|server closed the connection|not queryable/.test(
        e.message,
      )
    )
      return true;
  }
  return false;
}

/**
 * The PostgreSQL pid named when `error` (or one of its causes) says the replication slot is streamed by another
 * walsender (SQLSTATE 55006, "replication slot … is active for PID n"), 0 when it names none; null otherwise.
 */
export function slotInUse(error: Error): number | null {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const match = /replication slot ".*" is active for PID (\d+)/.exec(e.message);
    if (match) return Number(match[1]);
    if ((e as { code?: unknown }).code === '55006') return 0;
  }
  return null;
}

/** Whether a walsender streams the configured slot now (asked on a connection of its own). */
async function slotStillHeld(config: CdcConfig): Promise<boolean> {
  const client = new pg.Client({ connectionString: config.postgresUrl });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await slotActivePid(client, config.slot)) !== null;
  } finally {
    await client.end().catch(() => {});
  }
}

/** One run of the source, from the checks to the stream; stops for good on its first failure. */
async function startSource(options: PostgresCdcOptions): Promise<PostgresCdcHandle> {
  const { config, logger } = options;
  if (config.postgresUrl === '') {
    throw new CroupierError(
      'CROUPIER_ERR_CDC_CONFIG',
      'cdc.postgresUrl is empty: set CDC_POSTGRES_URL or --postgres',
    );
  }
  const tables: { table: string; kind: ContractKind }[] = [{ table: config.itemsTable, kind: 'items' }];
  if (config.usersTable !== '') tables.push({ table: config.usersTable, kind: 'users' });

  const admin = new pg.Client({ connectionString: config.postgresUrl });
  await admin.connect().catch((error: Error) => {
    throw new CroupierError(
      'CROUPIER_ERR_CDC_DATABASE',
      `cannot connect to PostgreSQL: ${error.message}`,
      {},
      { cause: error },
    );
  });
  let rejectFailed: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  failed.catch(() => {});
  let closed = false;
  // A connection the server ends while idle (a restart, pg_terminate_backend) is reported here, not to a query.
  admin.on('error', (error: Error) =>
    fail(
      new CroupierError(
        'CROUPIER_ERR_CDC_DATABASE',
        `lost the connection to PostgreSQL: ${error.message}`,
        {},
        { cause: error },
      ),
    ),
  );
  let lag: SlotLag | null = null;
  let refused = 0;
  let stopped = false;
  let lagTimer: NodeJS.Timeout | undefined;
  let stream: Awaited<ReturnType<typeof startReplicationStream>> | null = null;
  let sink: Awaited<ReturnType<typeof createKafkaSink>> | null = null;

  function fail(error: Error): void {
    if (closed) return;
    stopped = true;
    logger.error(
      { err: error, code: (error as CroupierError).code },
      `cdc: the source stops: ${error.message}`,
    );
    rejectFailed(error);
  }

  try {
    await checkServer(admin);
    const db = (await admin.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
    const mappings = [];
    for (const { table, kind } of tables) {
      const shape = await readTableShape(admin, table);
      const mapping = resolveMapping(kind, shape, config.columns[kind]);
      if (mapping.ignored.length > 0)
        logger.info({ table: mapping.table, columns: mapping.ignored }, 'cdc: columns not mapped, ignored');
      mappings.push({ table, mapping });
    }
    await ensurePublication(
      admin,
      config.publication,
      tables.map((t) => t.table),
    );
    sink = await createKafkaSink({
      kafka: options.kafka,
      codec: options.codec,
      topics: options.topics,
      maxBatch: config.maxBatch,
      lingerMs: config.lingerMs,
      onAcknowledged: (lsn) => stream?.acknowledge(lsn),
      onError: (error) =>
        fail(
          new CroupierError(
            'CROUPIER_ERR_CDC_STREAM',
            `Kafka refused the changes: ${error.message}`,
            {},
            { cause: error },
          ),
        ),
    });
    const s = sink;
    const add = (record: ChangeRecord): Promise<void> => {
      if (!oversizedRecord(record)) return s.add(record);
      refused++;
      logger.warn(
        { table: record.change.source.table, key: record.key.slice(0, 128), op: record.change.op },
        `cdc: a row of ${record.change.source.table} holds more than ${MAX_ROW_CHARS} characters of text or tags: its change is not sent (the catalog keeps the row as it was)`,
      );
      return Promise.resolve();
    };
    if ((await readSlot(admin, config.slot)) === null) {
      await takeSnapshot({
        connectionString: config.postgresUrl,
        slot: config.slot,
        db,
        mappings,
        add,
        flush: () => s.flush(),
        logger,
      });
    } else logger.info({ slot: config.slot }, 'cdc: replication slot exists, resuming from it');

    const byName = new Map(
      tables.map(({ table, kind }) => {
        const q = qualifiedName(table);
        return [`${q.schema}.${q.table}`, { kind, columns: config.columns[kind] }] as const;
      }),
    );
    stream = await startReplicationStream({
      connectionString: config.postgresUrl,
      slot: config.slot,
      publication: config.publication,
      db,
      tables: byName,
      add,
      commit: (lsn) => s.commit(lsn),
      sinkIdle: () => s.idle(),
      logger,
      onError: fail,
    });
    const watchLag = async () => {
      try {
        // A table dropped, renamed or taken out of the publication is no longer decoded, and PostgreSQL says
        // nothing of it to the stream: its changes would be missed in silence.
        const gone = await unpublishedTables(
          admin,
          config.publication,
          tables.map((t) => t.table),
        );
        if (gone.length > 0) {
          fail(
            new CroupierError(
              'CROUPIER_ERR_CDC_DATABASE',
              `${gone.join(', ')} ${gone.length === 1 ? 'is' : 'are'} no longer in publication ${config.publication} (dropped, renamed, or taken out of it): changes to ${gone.length === 1 ? 'it' : 'them'} since are not replicated. ` +
                `Once the table is back, take a new snapshot: croupier cdc --drop-slot, then start`,
              { publication: config.publication, tables: gone },
            ),
          );
          return;
        }
        lag = await readSlotLag(admin, config.slot);
        if (lag !== null && lag.retainedBytes > config.lagWarnBytes) {
          logger.warn(
            { slot: config.slot, retainedBytes: lag.retainedBytes, unconfirmedBytes: lag.unconfirmedBytes },
            `cdc: replication slot ${config.slot} holds ${lag.retainedBytes} bytes of WAL on the database's disk (over cdc.lagWarnBytes)`,
          );
        }
      } catch (error) {
        logger.warn({ err: error }, 'cdc: cannot read the slot lag');
      }
      if (!closed) lagTimer = setTimeout(watchLag, config.lagCheckMs);
    };
    void watchLag();
  } catch (error) {
    closed = true;
    await sink?.close().catch(() => {});
    await admin.end().catch(() => {});
    throw error;
  }

  const running = sink;
  return {
    failed,
    metrics: () => ({
      slot: config.slot,
      sent: { ...running.sent },
      refused,
      confirmedLsn: stream?.confirmed() ?? 0,
      lag,
      streaming: stream !== null && !stopped,
      standby: false,
    }),
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(lagTimer);
      await running.flush().catch(() => {});
      await stream?.close();
      await running.close().catch(() => {});
      await admin.end().catch(() => {});
    },
  };
}
