/**
 * A topic's table: the columns of its archive files, derived from the Avro contracts the topic carries. Pure.
 *
 * Every field of every record type of the topic becomes a column (a topic with several record types, like the
 * clickstream, gets the union of their fields; a field two types share must have one type). Nested records
 * become structs, arrays lists, maps maps; logical types are kept (timestamp-millis/micros as timestamps with
 * time zone, i.e. UTC instants, date as date). Then the columns that trace a row back to Kafka:
 *
 *   _schema     record type (full Avro name), null for a tombstone or an undecodable record
 *   _schema_id  registry id of the writer schema
 *   _partition, _offset, _timestamp (Kafka timestamp), _key (bytes)
 *   _raw, _error  the original value bytes and why, when the value could not be decoded (kept, not dropped)
 *
 * Rows travel to DuckDB as JSON lines (staging.ts): timestamps as epoch numbers and bytes as base64 there,
 * converted by the SELECT this module writes (`selectSql`).
 */
import { CroupierError } from '../../errors/index.ts';

/** An Avro schema in its JSON form. */
export type AvroSchema = string | AvroSchema[] | { type: string; [key: string]: unknown };

interface FieldSchema {
  name: string;
  type: AvroSchema;
}

/** How one value travels: its type in the JSON lines, its final type, the SQL that converts (null: as is). */
export interface ColumnType {
  json: string;
  duck: string;
  convert: ((expr: string) => string) | null;
  /** The value holds bytes somewhere (they travel as base64). */
  hasBytes: boolean;
}

export interface TableColumn extends ColumnType {
  name: string;
  /** Avro type of the column in the archive's row schema (nullable). */
  avro: AvroSchema;
}

export interface TopicTable {
  topic: string;
  /** Fields of the record types, then the Kafka columns. */
  columns: TableColumn[];
  /** Record types (full names) whose values fill the columns. */
  recordTypes: string[];
  /** Their contracts (Avro schemas), in the same order. */
  contracts: AvroSchema[];
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

const identity = (json: string, duck = json): ColumnType => ({ json, duck, convert: null, hasBytes: false });
const bytesType: ColumnType = {
  json: 'VARCHAR',
  duck: 'BLOB',
  convert: (e) => `from_base64(${e})`,
  hasBytes: true,
};

function schemaError(message: string, details: Record<string, unknown>): CroupierError {
  return new CroupierError('CROUPIER_ERR_ARCHIVE_SCHEMA', message, details);
}

/** The column type of an Avro schema; `named` resolves references to named types defined earlier. */
export function columnTypeOf(schema: AvroSchema, named: Map<string, AvroSchema>, where: string): ColumnType {
  if (Array.isArray(schema)) {
    const branches = schema.filter((s) => s !== 'null');
    if (branches.length !== 1) {
      throw schemaError(`${where}: a union of ${branches.length} non-null types cannot be one column`, {
        where,
      });
    }
    return columnTypeOf(branches[0], named, where);
  }
  if (typeof schema === 'string') {
    switch (schema) {
      case 'string':
        return identity('VARCHAR');
      case 'int':
        return identity('INTEGER');
      case 'long':
        return identity('BIGINT');
      case 'float':
        return identity('FLOAT');
      case 'double':
        return identity('DOUBLE');
      case 'boolean':
        return identity('BOOLEAN');
      case 'bytes':
        return bytesType;
      default: {
        const ref = named.get(schema);
        if (!ref) throw schemaError(`${where}: unknown Avro type ${schema}`, { where });
        return columnTypeOf(ref, named, where);
      }
    }
  }
  const logical = schema.logicalType;
  if (schema.type === 'long' && (logical === 'timestamp-millis' || logical === 'timestamp-micros')) {
    const fn = logical === 'timestamp-millis' ? 'make_timestamp_ms' : 'make_timestamp';
    return {
      json: 'BIGINT',
      duck: 'TIMESTAMPTZ',
      convert: (e) => `timezone('UTC', ${fn}(${e}))`,
      hasBytes: false,
    };
  }
  if (schema.type === 'int' && logical === 'date') {
    return { json: 'INTEGER', duck: 'DATE', convert: (e) => `(DATE '1970-01-01' + ${e})`, hasBytes: false };
  }
  const fullName = (n: string) =>
    n.includes('.') || typeof schema.namespace !== 'string' ? n : `${schema.namespace}.${n}`;
  switch (schema.type) {
    case 'record':
    case 'error': {
      const name = fullName(String(schema.name));
      named.set(name, schema);
      named.set(String(schema.name), schema);
      const fields = (schema.fields as FieldSchema[]).map((f) => ({
        name: f.name,
        type: columnTypeOf(f.type, named, `${where}.${f.name}`),
      }));
      const json = `STRUCT(${fields.map((f) => `${quoteIdent(f.name)} ${f.type.json}`).join(', ')})`;
      const duck = `STRUCT(${fields.map((f) => `${quoteIdent(f.name)} ${f.type.duck}`).join(', ')})`;
      const hasBytes = fields.some((f) => f.type.hasBytes);
      if (fields.every((f) => f.type.convert === null)) return { json, duck, convert: null, hasBytes };
      return {
        json,
        duck,
        hasBytes,
        convert: (e) =>
          `CASE WHEN ${e} IS NULL THEN NULL ELSE struct_pack(${fields
            .map(
              (f) =>
                `${quoteIdent(f.name)} := ${(f.type.convert ?? ((x: string) => x))(`${e}.${quoteIdent(f.name)}`)}`,
            )
            .join(', ')}) END`,
      };
    }
    case 'enum':
      named.set(fullName(String(schema.name)), schema);
      return identity('VARCHAR');
    case 'fixed':
      named.set(fullName(String(schema.name)), schema);
      return bytesType;
    case 'array': {
      const item = columnTypeOf(schema.items as AvroSchema, named, `${where}[]`);
      const convert = item.convert;
      return {
        json: `${item.json}[]`,
        duck: `${item.duck}[]`,
        hasBytes: item.hasBytes,
        convert: convert ? (e) => `list_transform(${e}, x -> ${convert('x')})` : null,
      };
    }
    case 'map': {
      const value = columnTypeOf(schema.values as AvroSchema, named, `${where}{}`);
      const convert = value.convert;
      return {
        json: `MAP(VARCHAR, ${value.json})`,
        duck: `MAP(VARCHAR, ${value.duck})`,
        hasBytes: value.hasBytes,
        convert: convert
          ? (e) =>
              `map_from_entries(list_transform(map_entries(${e}), kv -> {'key': kv.key, 'value': ${convert('kv.value')}}))`
          : null,
      };
    }
    default:
      return columnTypeOf(schema.type as AvroSchema, named, where);
  }
}

/** The names of the Kafka columns every table ends with, in order. */
export const KAFKA_COLUMN_NAMES = [
  '_schema',
  '_schema_id',
  '_partition',
  '_offset',
  '_timestamp',
  '_key',
  '_raw',
  '_error',
] as const;
export type KafkaColumnName = (typeof KAFKA_COLUMN_NAMES)[number];

/** The Kafka columns every table ends with. */
const KAFKA_COLUMNS: (TableColumn & { name: KafkaColumnName })[] = [
  { name: '_schema', ...identity('VARCHAR'), avro: ['null', 'string'] },
  { name: '_schema_id', ...identity('INTEGER'), avro: ['null', 'int'] },
  { name: '_partition', ...identity('INTEGER'), avro: 'int' },
  { name: '_offset', ...identity('BIGINT'), avro: 'long' },
  {
    name: '_timestamp',
    json: 'BIGINT',
    duck: 'TIMESTAMPTZ',
    convert: (e) => `timezone('UTC', make_timestamp_ms(${e}))`,
    hasBytes: false,
    avro: { type: 'long', logicalType: 'timestamp-millis' },
  },
  { name: '_key', ...bytesType, avro: ['null', 'bytes'] },
  { name: '_raw', ...bytesType, avro: ['null', 'bytes'] },
  { name: '_error', ...identity('VARCHAR'), avro: ['null', 'string'] },
];

/** The table of a topic carrying the record types `contracts` (Avro schemas in JSON form). */
export function topicTableOf(topic: string, contracts: readonly AvroSchema[]): TopicTable {
  const columns: TableColumn[] = [];
  const byName = new Map<string, TableColumn>();
  const recordTypes: string[] = [];
  const definedAvro = new Set<string>();
  for (const contract of contracts) {
    if (typeof contract !== 'object' || Array.isArray(contract) || contract.type !== 'record') {
      throw schemaError(`a contract of topic ${topic} is not an Avro record`, { topic });
    }
    const ns = typeof contract.namespace === 'string' ? `${contract.namespace}.` : '';
    const name = String(contract.name);
    recordTypes.push(name.includes('.') ? name : `${ns}${name}`);
    const named = new Map<string, AvroSchema>();
    for (const field of contract.fields as FieldSchema[]) {
      if (field.name.startsWith('_')) {
        throw schemaError(
          `field ${name}.${field.name} of topic ${topic}: names starting with _ are the archive's`,
          {
            topic,
            field: field.name,
          },
        );
      }
      const type = columnTypeOf(field.type, named, `${name}.${field.name}`);
      const known = byName.get(field.name);
      if (known) {
        if (known.duck !== type.duck) {
          throw schemaError(
            `field ${field.name} of topic ${topic} is ${known.duck} in one record type and ${type.duck} in ${name}: rename one`,
            { topic, field: field.name },
          );
        }
        continue;
      }
      const column: TableColumn = {
        name: field.name,
        ...type,
        avro: nullableAvro(field.type, ns, definedAvro),
      };
      byName.set(field.name, column);
      columns.push(column);
    }
  }
  return { topic, columns: [...columns, ...KAFKA_COLUMNS], recordTypes, contracts: [...contracts] };
}

/** A field's Avro type made nullable, with named types qualified and defined once across record types. */
function nullableAvro(schema: AvroSchema, namespace: string, defined: Set<string>): AvroSchema {
  const qualify = (s: AvroSchema, ns: string): AvroSchema => {
    if (Array.isArray(s)) return s.map((b) => qualify(b, ns));
    if (typeof s === 'string') {
      const primitive = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'].includes(s);
      return primitive || s.includes('.') ? s : `${ns}${s}`;
    }
    if (s.type === 'record' || s.type === 'enum' || s.type === 'fixed' || s.type === 'error') {
      const own = typeof s.namespace === 'string' ? `${s.namespace}.` : ns;
      const full = String(s.name).includes('.') ? String(s.name) : `${own}${s.name}`;
      if (defined.has(full)) return full;
      defined.add(full);
      const { namespace: _ns, ...rest } = s;
      const out: { type: string; [key: string]: unknown } = { ...rest, name: full };
      if (Array.isArray(s.fields)) {
        out.fields = (s.fields as FieldSchema[]).map((f) => ({ ...f, type: qualify(f.type, own) }));
      }
      return out;
    }
    if (s.type === 'array') return { ...s, items: qualify(s.items as AvroSchema, ns) };
    if (s.type === 'map') return { ...s, values: qualify(s.values as AvroSchema, ns) };
    return s;
  };
  const q = qualify(schema, namespace);
  if (Array.isArray(q)) return q.includes('null') ? q : ['null', ...q];
  return ['null', q];
}

/** `{name: 'TYPE', …}` for DuckDB's read_json `columns`. */
export function jsonColumnsSql(table: TopicTable): string {
  return `{${table.columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.json)}`).join(', ')}}`;
}

/** The SELECT list that turns staged JSON columns into the table's final columns. */
export function selectSql(table: TopicTable): string {
  return table.columns
    .map((c) => {
      const id = quoteIdent(c.name);
      return c.convert ? `${c.convert(id)} AS ${id}` : id;
    })
    .join(', ');
}

/** The Avro record schema of the table's rows (for `archive.format=avro`). */
export function rowSchemaOf(table: TopicTable): AvroSchema {
  return {
    type: 'record',
    name: `${table.topic.replace(/[^A-Za-z0-9_]/g, '_')}_row`,
    namespace: 'croupier.archive',
    fields: table.columns.map((c) =>
      Array.isArray(c.avro) && c.avro[0] === 'null'
        ? { name: c.name, type: c.avro, default: null }
        : { name: c.name, type: c.avro },
    ),
  };
}

export const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
