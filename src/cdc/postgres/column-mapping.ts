/**
 * How a PostgreSQL table's columns become an `ItemChange`/`UserChange` row: each contract field reads one column,
 * named in `cdc.columns.<items|users>.<field>` or, by default, the column named like the field (case and
 * underscores aside: `itemId` reads `item_id`, `itemid` or `"itemId"`). Pure: the shape of the table comes in
 * (from the catalog at start, from pgoutput's Relation messages while streaming), a mapping or a
 * CROUPIER_ERR_CDC_* error naming the column and the fix comes out.
 */

import type { ItemRow, UserRow } from '../../../streams/schemas/index.ts';
import { CroupierError } from '../../errors/index.ts';

export type ContractKind = 'items' | 'users';
type FieldKind = 'string' | 'boolean' | 'strings' | 'timestamp';

interface ContractField {
  name: string;
  kind: FieldKind;
  /** May have no column (the contract's default). */
  optional?: boolean;
}

/** The fields of each contract's row, the first one its key. */
export const CONTRACT_FIELDS: Readonly<Record<ContractKind, readonly ContractField[]>> = {
  items: [
    { name: 'itemId', kind: 'string' },
    { name: 'title', kind: 'string' },
    { name: 'category', kind: 'string' },
    { name: 'tags', kind: 'strings', optional: true },
    { name: 'available', kind: 'boolean' },
    { name: 'createdAt', kind: 'timestamp' },
  ],
  users: [
    { name: 'userId', kind: 'string' },
    { name: 'segment', kind: 'string' },
    { name: 'country', kind: 'string' },
    { name: 'subscribed', kind: 'boolean' },
  ],
};

export type ReplicaIdentity = 'default' | 'nothing' | 'full' | 'index';

export interface ColumnInfo {
  name: string;
  /** pg_type oid. */
  typeOid: number;
  /** pg_type's typcategory (`A` array, `G` geometric, `T` timespan, ...), where the catalog gave it. */
  typeCategory?: string;
}

/** A table as the catalog or a pgoutput Relation message describes it. */
export interface TableShape {
  schema: string;
  table: string;
  columns: readonly ColumnInfo[];
  replicaIdentity: ReplicaIdentity;
  /** The columns a delete carries under the replica identity (the primary key by default; all under FULL). */
  identityColumns: readonly string[];
}

export interface RowMapping {
  kind: ContractKind;
  /** `schema.table`. */
  table: string;
  /** Contract field → column. */
  columns: ReadonlyMap<string, string>;
  /** The column of the row's key (itemId, userId). */
  keyColumn: string;
  /** Columns no field reads (logged once, then ignored). */
  ignored: readonly string[];
  /** A delete or an update carries the whole old row (REPLICA IDENTITY FULL). */
  fullBefore: boolean;
}

const OID = {
  bool: 16,
  int8: 20,
  int2: 21,
  int4: 23,
  json: 114,
  jsonb: 3802,
  bytea: 17,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  textArray: 1009,
  varcharArray: 1015,
  bpcharArray: 1014,
  nameArray: 1003,
} as const;

const STRING_ARRAYS = new Set<number>([OID.textArray, OID.varcharArray, OID.bpcharArray, OID.nameArray]);
const TIMESTAMPS = new Set<number>([OID.timestamp, OID.timestamptz, OID.date, OID.int8, OID.int4]);
/** interval and the geometric types, which the driver reads as objects, not text (their oids are fixed). */
const OBJECT_TYPES = [1186, 600, 601, 602, 603, 604, 628, 718];
/** Types a string field refuses (everything else is read through its text form). */
const NOT_STRINGS = new Set<number>([
  OID.bool,
  OID.json,
  OID.jsonb,
  OID.bytea,
  ...STRING_ARRAYS,
  ...OBJECT_TYPES,
]);
/**
 * Type categories a string field refuses: arrays of any type, geometric types and intervals come from the driver
 * as arrays and objects, so a column of them was taken at start and stopped the source at its first value.
 */
const NOT_STRING_CATEGORIES = new Set(['A', 'G', 'T']);

function typeFits(kind: FieldKind, oid: number, category: string | undefined): boolean {
  switch (kind) {
    case 'boolean':
      return oid === OID.bool;
    case 'strings':
      return STRING_ARRAYS.has(oid);
    case 'timestamp':
      return TIMESTAMPS.has(oid);
    case 'string':
      return !NOT_STRINGS.has(oid) && !(category !== undefined && NOT_STRING_CATEGORIES.has(category));
  }
}

const KIND_TYPES: Record<FieldKind, string> = {
  boolean: 'boolean',
  strings: 'text[] or varchar[]',
  timestamp: 'timestamptz, timestamp, date, or a bigint of ms since the epoch',
  string: 'a text-like or numeric type',
};

function normalized(name: string): string {
  return name.toLowerCase().replaceAll('_', '');
}

/**
 * The mapping of `kind`'s contract onto `shape`, with `configured` (field → column) over the defaults.
 * Throws CROUPIER_ERR_CDC_MAPPING for a field without a column or with a column of the wrong type, and
 * CROUPIER_ERR_CDC_NO_KEY for a table whose replica identity does not give the key of a deleted row.
 */
export function resolveMapping(
  kind: ContractKind,
  shape: TableShape,
  configured: Readonly<Record<string, string>> = {},
): RowMapping {
  const table = `${shape.schema}.${shape.table}`;
  const byName = new Map(shape.columns.map((c) => [c.name, c]));
  for (const field of Object.keys(configured)) {
    if (!CONTRACT_FIELDS[kind].some((f) => f.name === field)) {
      throw new CroupierError(
        'CROUPIER_ERR_CDC_MAPPING',
        `cdc.columns.${kind}.${field}: ${kind} rows have no field ${field} (fields: ${CONTRACT_FIELDS[kind].map((f) => f.name).join(', ')})`,
        { table, field },
      );
    }
  }
  const columns = new Map<string, string>();
  for (const field of CONTRACT_FIELDS[kind]) {
    const named = configured[field.name];
    const column =
      named !== undefined
        ? byName.get(named)
        : shape.columns.find((c) => normalized(c.name) === normalized(field.name));
    if (column === undefined) {
      if (field.optional && named === undefined) continue;
      throw new CroupierError(
        'CROUPIER_ERR_CDC_MAPPING',
        named !== undefined
          ? `column ${named} of ${table} (cdc.columns.${kind}.${field.name}) does not exist: it was dropped or renamed; set cdc.columns.${kind}.${field.name} to the column that holds ${field.name}`
          : `${table} has no column for ${kind}' ${field.name} (looked for a column named like it, e.g. ${snakeCase(field.name)}): set cdc.columns.${kind}.${field.name}`,
        { table, field: field.name, column: named },
      );
    }
    if (!typeFits(field.kind, column.typeOid, column.typeCategory)) {
      throw new CroupierError(
        'CROUPIER_ERR_CDC_MAPPING',
        `column ${column.name} of ${table} (type oid ${column.typeOid}) cannot hold ${kind}' ${field.name}: expected ${KIND_TYPES[field.kind]}`,
        { table, field: field.name, column: column.name, typeOid: column.typeOid },
      );
    }
    columns.set(field.name, column.name);
  }
  const keyField = CONTRACT_FIELDS[kind][0]!.name;
  const keyColumn = columns.get(keyField)!;
  if (shape.replicaIdentity === 'nothing' || !shape.identityColumns.includes(keyColumn)) {
    // REPLICA IDENTITY NOTHING hides the key a table has: naming one to add would not help.
    const why =
      shape.replicaIdentity === 'nothing'
        ? 'has REPLICA IDENTITY NOTHING'
        : shape.identityColumns.length === 0
          ? 'has no primary key'
          : `identifies its rows by ${shape.identityColumns.join(', ')}, not by ${keyColumn}`;
    const fix =
      shape.replicaIdentity === 'nothing'
        ? `ALTER TABLE ${table} REPLICA IDENTITY DEFAULT; (its primary key, if it is ${keyColumn}) or ALTER TABLE ${table} REPLICA IDENTITY FULL;`
        : `ALTER TABLE ${table} ADD PRIMARY KEY (${keyColumn}); or, to keep the table's key, ALTER TABLE ${table} REPLICA IDENTITY FULL;`;
    throw new CroupierError(
      'CROUPIER_ERR_CDC_NO_KEY',
      `${table} ${why}, so a delete would not say which ${keyField} it removed: ${fix}`,
      { table, keyColumn },
    );
  }
  const used = new Set(columns.values());
  return {
    kind,
    table,
    columns,
    keyColumn,
    ignored: shape.columns.map((c) => c.name).filter((c) => !used.has(c)),
    fullBefore: shape.replicaIdentity === 'full',
  };
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The row of `values` (column → value, as the pg package parses them). Missing columns read as empty. */
export function mapRow(mapping: RowMapping, values: Readonly<Record<string, unknown>>): ItemRow | UserRow {
  const row: Record<string, unknown> = {};
  for (const field of CONTRACT_FIELDS[mapping.kind]) {
    const column = mapping.columns.get(field.name);
    row[field.name] =
      column === undefined ? emptyValue(field.kind) : fieldValue(mapping, field, column, values[column]);
  }
  return row as unknown as ItemRow | UserRow;
}

/** The key (itemId, userId) of `values`. */
export function rowKey(mapping: RowMapping, values: Readonly<Record<string, unknown>>): string {
  return asString(mapping, mapping.keyColumn, values[mapping.keyColumn]);
}

function emptyValue(kind: FieldKind): unknown {
  switch (kind) {
    case 'string':
      return '';
    case 'boolean':
      return false;
    case 'strings':
      return [];
    case 'timestamp':
      return 0;
  }
}

function fieldValue(mapping: RowMapping, field: ContractField, column: string, value: unknown): unknown {
  if (value === null || value === undefined) return emptyValue(field.kind);
  switch (field.kind) {
    case 'string':
      return asString(mapping, column, value);
    case 'boolean':
      if (typeof value === 'boolean') return value;
      break;
    case 'strings':
      if (Array.isArray(value)) return value.map((v) => (v === null ? '' : String(v)));
      break;
    case 'timestamp':
      // A time past a JavaScript Date (years after 275,760: PostgreSQL goes to 294,276 and a date to 5,874,897;
      // its earliest, 4713 BC, is within) parses as an invalid Date.
      if (value instanceof Date)
        return Number.isNaN(value.getTime()) ? MAX_TIME_MS : clampTime(value.getTime());
      if (typeof value === 'number' && !Number.isNaN(value)) return clampTime(value);
      if (typeof value === 'string' && /^-?\d+$/.test(value)) return clampTime(Number(value));
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return Date.parse(value);
      break;
  }
  throw unmappable(mapping, column, value, KIND_TYPES[field.kind]);
}

/**
 * The furthest time either side of 1970 (ms, about the year 144,683) that `createdAt` carries exactly: Avro's
 * long is zigzag-encoded, which for a JavaScript number doubles it, so a value past ±2^52 loses its last bit, and
 * a negative one comes back positive.
 */
const MAX_TIME_MS = 2 ** 52 - 1;

/**
 * `value` ms, whole, within ±MAX_TIME_MS: `infinity` and `-infinity` (which the pg package reads as ±Infinity),
 * times past it and bigints of ms past it read as the furthest time the contract carries.
 */
function clampTime(value: number): number {
  return Math.max(-MAX_TIME_MS, Math.min(MAX_TIME_MS, Math.trunc(value)));
}

function asString(mapping: RowMapping, column: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  throw unmappable(mapping, column, value, KIND_TYPES.string);
}

function unmappable(mapping: RowMapping, column: string, value: unknown, expected: string): CroupierError {
  return new CroupierError(
    'CROUPIER_ERR_CDC_MAPPING',
    `column ${column} of ${mapping.table} holds ${JSON.stringify(value)?.slice(0, 60)}, which is not ${expected}`,
    { table: mapping.table, column },
  );
}
