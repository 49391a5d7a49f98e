/**
 * Streams the slot's changes (pgoutput, decoded by pg-logical-replication) in commit order, and moves the slot
 * only as far as the caller says Kafka holds: the library's own acknowledgements are off (it would confirm what
 * was merely received), and its flow control keeps at most one message in the handler, which waits while the
 * Kafka sink is full, so a slow Kafka slows the stream instead of filling memory.
 */

import pg from 'pg';
import type { Pgoutput } from 'pg-logical-replication';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import { CroupierError } from '../../errors/index.ts';
import type { Logger } from '../../log/logger.ts';
import { columnSql, tableSql } from './catalog.ts';
import {
  type ChangeOrigin,
  type ChangeRecord,
  deleteRecord,
  rowRecord,
  truncateRecord,
  updateRecords,
} from './change-records.ts';
import { type ContractKind, type RowMapping, resolveMapping, type TableShape } from './column-mapping.ts';
import { lsnToNumber, numberToLsn } from './lsn.ts';

export interface ReplicationStreamOptions {
  connectionString: string;
  slot: string;
  publication: string;
  db: string;
  /** `schema.table` → its contract and configured columns. */
  tables: ReadonlyMap<string, { kind: ContractKind; columns: Readonly<Record<string, string>> }>;
  add(record: ChangeRecord): Promise<void>;
  commit(lsn: number): void;
  /** True when every record handed over is in Kafka. */
  sinkIdle(): boolean;
  logger: Logger;
  /** The stream stopped for good (a mapping that no longer holds, a lost connection). */
  onError(error: Error): void;
}

export interface ReplicationStream {
  /** Confirms to PostgreSQL that everything up to the commit at `lsn` is safe. */
  acknowledge(lsn: number): void;
  /** The last confirmed position. */
  confirmed(): number;
  close(): Promise<void>;
}

export async function startReplicationStream(options: ReplicationStreamOptions): Promise<ReplicationStream> {
  const { logger } = options;
  const service = new LogicalReplicationService(
    { connectionString: options.connectionString },
    { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
  );
  const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [options.publication] });
  const mappings = new Map<number, RowMapping | null>();
  const ignoredLogged = new Set<string>();
  let tx: ChangeOrigin | null = null;
  let confirmed = 0;
  let stopped = false;
  let reader: pg.Client | null = null;

  /**
   * An update that left a large (TOASTed) value unchanged does not carry it: pgoutput marks it unchanged, and
   * without REPLICA IDENTITY FULL there is no old row to take it from. It is read from the table (the current
   * value: if a later change made it newer, that change follows with the same value).
   */
  async function withToasted(
    mapping: RowMapping,
    values: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const missing = [...mapping.columns.values()].filter((c) => values[c] === undefined);
    if (missing.length === 0) return values;
    if (reader === null) {
      const client = new pg.Client({ connectionString: options.connectionString });
      client.on('error', (error: Error) => fail(error));
      reader = client;
      await client.connect();
    }
    const { rows } = await reader.query(
      `SELECT ${missing.map(columnSql).join(', ')} FROM ${tableSql(mapping.table)} WHERE ${columnSql(mapping.keyColumn)} = $1`,
      [values[mapping.keyColumn]],
    );
    return { ...values, ...rows[0] };
  }

  function send(lsn: number): void {
    if (stopped) return;
    // The library confirms lsn + 1: PostgreSQL then skips every transaction whose commit starts before it.
    void service.acknowledge(numberToLsn(lsn)).catch(() => {});
  }

  function relation(msg: Pgoutput.MessageRelation): void {
    const name = `${msg.schema}.${msg.name}`;
    const table = options.tables.get(name);
    if (table === undefined) {
      mappings.set(msg.relationOid, null);
      return;
    }
    const shape: TableShape = {
      schema: msg.schema,
      table: msg.name,
      columns: msg.columns.map((c) => ({ name: c.name, typeOid: c.typeOid })),
      replicaIdentity: msg.replicaIdentity,
      identityColumns: msg.keyColumns,
    };
    const mapping = resolveMapping(table.kind, shape, table.columns);
    for (const column of mapping.ignored) {
      if (ignoredLogged.has(`${name}.${column}`)) continue;
      ignoredLogged.add(`${name}.${column}`);
      logger.info({ table: name, column }, 'cdc: column not mapped to the contract, ignored');
    }
    mappings.set(msg.relationOid, mapping);
  }

  async function handle(lsnText: string, msg: Pgoutput.Message): Promise<void> {
    switch (msg.tag) {
      case 'relation':
        relation(msg);
        return;
      case 'begin':
        tx = {
          db: options.db,
          lsn: 0,
          txId: msg.xid,
          commitLsn: lsnToNumber(msg.commitLsn ?? '0/0'),
          commitMs: Number((msg.commitTime as bigint) / 1000n),
        };
        return;
      case 'commit':
        tx = null;
        options.commit(lsnToNumber(msg.commitLsn ?? lsnText));
        return;
      case 'truncate': {
        // One record per truncated mapped table, to every partition of its topic (the catalog's rows of a key
        // live in the partition of the key).
        if (tx === null) return;
        const origin = { ...tx, lsn: lsnToNumber(lsnText) };
        for (const r of msg.relations) {
          const mapping = mappings.get(r.relationOid);
          if (!mapping) continue;
          logger.info({ table: mapping.table }, 'cdc: TRUNCATE: every row of the table leaves the catalog');
          await options.add(truncateRecord(mapping, origin));
        }
        return;
      }
      case 'insert':
      case 'update':
      case 'delete': {
        const mapping = mappings.get(msg.relation.relationOid);
        if (!mapping || tx === null) return;
        const origin = { ...tx, lsn: lsnToNumber(lsnText) };
        const records =
          msg.tag === 'insert'
            ? [rowRecord('c', mapping, msg.new, origin)]
            : msg.tag === 'update'
              ? updateRecords(mapping, msg.old ?? msg.key, await withToasted(mapping, msg.new), origin)
              : [deleteRecord(mapping, (msg.old ?? msg.key)!, origin)];
        for (const record of records) await options.add(record);
        return;
      }
      default:
        return;
    }
  }

  service.on('data', async (lsn: string, msg: Pgoutput.Message) => {
    if (stopped) return;
    try {
      await handle(lsn, msg);
    } catch (error) {
      fail(error as Error);
    }
  });
  service.on('heartbeat', (lsn: string, _ts: number, shouldRespond: boolean) => {
    // Idle (nothing queued, received or unsent): everything before the server's position is in Kafka, so the
    // slot may move there (else an idle slot would hold WAL back forever). The server's position may be the
    // start of a commit not sent yet: confirm up to it, not past it.
    const queue = service as unknown as { _processing: boolean };
    if (tx === null && !queue._processing && options.sinkIdle()) {
      const position = lsnToNumber(lsn) - 1;
      if (position > confirmed) confirmed = position;
      send(confirmed);
    } else if (shouldRespond) send(confirmed);
  });
  service.on('error', (error: Error) => fail(error));

  function fail(error: Error): void {
    if (stopped) return;
    stopped = true;
    void service.stop().catch(() => {});
    options.onError(
      error instanceof CroupierError
        ? error
        : /^publication ".*" does not exist$/.test(error.message)
          ? new CroupierError(
              'CROUPIER_ERR_CDC_DATABASE',
              `replication from slot ${options.slot} failed: ${error.message}. PostgreSQL decodes a slot's changes with the publications as they were when each was written, so once the publication was dropped this slot cannot go on, even with the publication created again: croupier cdc --drop-slot, then start (a new snapshot)`,
              { slot: options.slot },
              { cause: error },
            )
          : new CroupierError(
              'CROUPIER_ERR_CDC_STREAM',
              `replication from slot ${options.slot} failed: ${error.message}`,
              { slot: options.slot },
              { cause: error },
            ),
    );
  }

  service.subscribe(plugin, options.slot).catch((error: Error) => fail(error));
  logger.info({ slot: options.slot, publication: options.publication }, 'cdc: streaming changes');

  return {
    acknowledge(lsn) {
      if (lsn > confirmed) confirmed = lsn;
      send(confirmed);
    },
    confirmed: () => confirmed,
    async close() {
      await reader?.end().catch(() => {});
      if (stopped) return;
      if (confirmed > 0) await service.acknowledge(numberToLsn(confirmed)).catch(() => false);
      stopped = true;
      await service.stop().catch(() => {});
    },
  };
}
