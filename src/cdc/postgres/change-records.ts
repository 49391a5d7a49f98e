/**
 * Change events in croupier's contracts (`ItemChange`/`UserChange`, Debezium's envelope) from rows of a mapped
 * table. Pure: the mapping, the values and where the change stands (LSN, transaction, commit time) come in.
 */
import type { ChangeEnvelope, ItemRow, UserRow } from '../../../streams/schemas/index.ts';
import { MAX_ROW_CHARS } from '../../domain/limits.ts';
import { CONTRACT_FIELDS, mapRow, type RowMapping, rowKey } from './column-mapping.ts';

export type ChangeRow = ItemRow | UserRow;

/** Where a change comes from: `lsn` of the change, its transaction and commit (null for snapshot reads). */
export interface ChangeOrigin {
  db: string;
  lsn: number;
  txId: number | null;
  commitLsn: number;
  /** Commit time (ms); the snapshot's time for reads. */
  commitMs: number;
}

/**
 * A record for Kafka: its contract kind, key (the row's key; a truncate's, the table's name) and envelope. A
 * truncate goes to every partition of its topic (`everyPartition`), since each partition holds the rows of the
 * keys it carries.
 */
export interface ChangeRecord {
  kind: RowMapping['kind'];
  key: string;
  change: ChangeEnvelope<ChangeRow>;
  everyPartition?: true;
}

function envelope(
  mapping: RowMapping,
  op: ChangeEnvelope<ChangeRow>['op'],
  before: ChangeRow | null,
  after: ChangeRow | null,
  origin: ChangeOrigin,
): ChangeEnvelope<ChangeRow> {
  return {
    before,
    after,
    op,
    ts_ms: Date.now(),
    source: {
      connector: 'postgresql',
      db: origin.db,
      table: mapping.table,
      ts_ms: origin.commitMs,
      lsn: origin.lsn,
      txId: origin.txId,
      commitLsn: origin.commitLsn,
    },
  };
}

/** A row of the snapshot (`op: 'r'`) or an inserted one (`op: 'c'`). */
export function rowRecord(
  op: 'r' | 'c',
  mapping: RowMapping,
  values: Record<string, unknown>,
  origin: ChangeOrigin,
): ChangeRecord {
  return {
    kind: mapping.kind,
    key: rowKey(mapping, values),
    change: envelope(mapping, op, null, mapRow(mapping, values), origin),
  };
}

/**
 * An update: one `u` record, or, when the key changed, a `d` of the old key and a `c` of the new one (as
 * Debezium does). `old` is the old row where the replica identity gives it (FULL), or its key columns.
 */
export function updateRecords(
  mapping: RowMapping,
  old: Record<string, unknown> | null,
  values: Record<string, unknown>,
  origin: ChangeOrigin,
): ChangeRecord[] {
  const key = rowKey(mapping, values);
  const after = mapRow(mapping, values);
  const before = old !== null ? fullRow(mapping, old) : null;
  if (old !== null && old[mapping.keyColumn] !== undefined && old[mapping.keyColumn] !== null) {
    const oldKey = rowKey(mapping, old);
    if (oldKey !== key) {
      return [
        {
          kind: mapping.kind,
          key: oldKey,
          change: envelope(mapping, 'd', before ?? keyRow(mapping, old), null, origin),
        },
        { kind: mapping.kind, key, change: envelope(mapping, 'c', null, after, origin) },
      ];
    }
  }
  return [{ kind: mapping.kind, key, change: envelope(mapping, 'u', before, after, origin) }];
}

/**
 * A delete: `before` is the whole old row under REPLICA IDENTITY FULL (unless it is oversized), else the key with
 * empty fields.
 */
export function deleteRecord(
  mapping: RowMapping,
  old: Record<string, unknown>,
  origin: ChangeOrigin,
): ChangeRecord {
  const before = fullRow(mapping, old) ?? keyRow(mapping, old);
  return {
    kind: mapping.kind,
    key: rowKey(mapping, old),
    change: envelope(mapping, 'd', before, null, origin),
  };
}

/** A TRUNCATE of the mapped table: every row gone. */
export function truncateRecord(mapping: RowMapping, origin: ChangeOrigin): ChangeRecord {
  return {
    kind: mapping.kind,
    key: mapping.table,
    change: envelope(mapping, 't', null, null, origin),
    everyPartition: true,
  };
}

/** A row that carries only its key (the other fields empty): what a delete gives without REPLICA IDENTITY FULL. */
function keyRow(mapping: RowMapping, old: Record<string, unknown>): ChangeRow {
  const keyOnly: Record<string, unknown> = {};
  for (const field of CONTRACT_FIELDS[mapping.kind])
    keyOnly[mapping.columns.get(field.name) ?? field.name] = null;
  keyOnly[mapping.keyColumn] = old[mapping.keyColumn];
  return mapRow(mapping, keyOnly);
}

/** The whole old row under REPLICA IDENTITY FULL, or null (no FULL identity, or a row too large to carry). */
function fullRow(mapping: RowMapping, old: Record<string, unknown>): ChangeRow | null {
  if (!mapping.fullBefore) return null;
  const row = mapRow(mapping, old);
  return oversized(row) ? null : row;
}

/**
 * Whether a row holds more than MAX_ROW_CHARS characters in its strings together, or more tags than that. The
 * topology refuses such a row; one of megabytes Kafka refuses too (MESSAGE_TOO_LARGE), and the source would stop
 * on it at every start.
 */
export function oversized(row: ChangeRow): boolean {
  let chars = 0;
  for (const value of Object.values(row)) {
    if (typeof value === 'string') chars += value.length;
    else if (Array.isArray(value)) {
      if (value.length > MAX_ROW_CHARS) return true;
      for (const item of value) chars += (item as string).length;
    }
  }
  return chars > MAX_ROW_CHARS;
}

/** Whether the record carries an oversized row (its new row, or a delete's key): it cannot be applied. */
export function oversizedRecord(record: ChangeRecord): boolean {
  const row = record.change.after ?? record.change.before;
  return row !== null && oversized(row);
}
