/**
 * The Parquet schema of a topic's table (columns.ts): one optional node per column, built from the column's
 * Avro type, with the leaves (one per primitive path) that hold the data. The types DuckDB reads back are the
 * table's `duck` types:
 *
 *   string, enum      BYTE_ARRAY  STRING            bytes, fixed   BYTE_ARRAY
 *   int               INT32                         date           INT32  DATE
 *   long              INT64                         timestamp-*    INT64  TIMESTAMP(UTC, MILLIS|MICROS)
 *   float, double     FLOAT, DOUBLE                 boolean        BOOLEAN
 *   record            group of optional fields
 *   array             optional group (LIST) { repeated group list { optional element } }
 *   map               optional group (MAP)  { repeated group key_value { required key; optional value } }
 *
 * Every node is optional (a column is null in record types that lack it), so each level adds one to the
 * definition level; lists and maps add a repetition level.
 */
import { CroupierError } from '../../../errors/index.ts';
import type { AvroSchema, TopicTable } from '../columns.ts';
import { LeafColumn, type PhysicalType } from './leaf-column.ts';

/** What a leaf holds, as the Avro transcoder writes it. */
export type LeafKind =
  | 'string'
  | 'bytes'
  | 'fixed'
  | 'enum'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'boolean';

export type SchemaNode =
  | { kind: 'leaf'; name: string; required: boolean; leaf: LeafColumn; type: LeafKind; logical: AvroLogical }
  | { kind: 'struct'; name: string; fields: SchemaNode[] }
  | { kind: 'list'; name: string; element: SchemaNode }
  | { kind: 'map'; name: string; key: SchemaNode & { kind: 'leaf' }; value: SchemaNode };

type AvroLogical = 'timestamp-millis' | 'timestamp-micros' | 'date' | null;

export interface ParquetSchema {
  /** One node per table column, in the table's order. */
  columns: SchemaNode[];
  /** Every leaf, in schema (depth-first) order: the order of the column chunks. */
  leaves: LeafColumn[];
}

function schemaError(message: string): CroupierError {
  return new CroupierError('CROUPIER_ERR_ARCHIVE_SCHEMA', message, {});
}

/** Registers named types (records, enums, fixed) as they are defined, under full and short names. */
export function registerNamed(schema: { [key: string]: unknown }, named: Map<string, AvroSchema>): void {
  const name = String(schema.name);
  const full =
    name.includes('.') || typeof schema.namespace !== 'string' ? name : `${schema.namespace}.${name}`;
  named.set(full, schema as AvroSchema);
  named.set(name.split('.').pop() as string, schema as AvroSchema);
}

/** The non-null branch of a nullable type, and the type itself otherwise; named references resolved. */
export function stripNull(schema: AvroSchema, named: Map<string, AvroSchema>): AvroSchema {
  let s = schema;
  if (Array.isArray(s)) {
    const branches = s.filter((b) => b !== 'null');
    if (branches.length !== 1) throw schemaError(`a union of ${branches.length} types cannot be one column`);
    s = branches[0];
  }
  if (typeof s === 'string' && named.has(s)) return named.get(s) as AvroSchema;
  if (typeof s === 'object' && !Array.isArray(s) && typeof s.type === 'object') return s.type as AvroSchema;
  return s;
}

/** Builds the schema and fresh leaf buffers for one file. */
export function parquetSchemaOf(table: TopicTable): ParquetSchema {
  const leaves: LeafColumn[] = [];
  const named = new Map<string, AvroSchema>();

  function build(name: string, schema: AvroSchema, path: string[], def: number, rep: number): SchemaNode {
    const s = stripNull(schema, named);
    const here = [...path, name];
    const leaf = (type: LeafKind, physical: PhysicalType, logical: AvroLogical = null): SchemaNode => {
      const column = new LeafColumn(here, physical, def, rep);
      leaves.push(column);
      return { kind: 'leaf', name, required: false, leaf: column, type, logical };
    };
    if (typeof s === 'string') {
      switch (s) {
        case 'string':
          return leaf('string', 'BYTE_ARRAY');
        case 'bytes':
          return leaf('bytes', 'BYTE_ARRAY');
        case 'int':
          return leaf('int', 'INT32');
        case 'long':
          return leaf('long', 'INT64');
        case 'float':
          return leaf('float', 'FLOAT');
        case 'double':
          return leaf('double', 'DOUBLE');
        case 'boolean':
          return leaf('boolean', 'BOOLEAN');
        default:
          throw schemaError(`${here.join('.')}: unknown Avro type ${s}`);
      }
    }
    if (Array.isArray(s)) throw schemaError(`${here.join('.')}: nested unions are not supported`);
    const logical = s.logicalType;
    if (s.type === 'long' && (logical === 'timestamp-millis' || logical === 'timestamp-micros')) {
      return leaf('long', 'INT64', logical);
    }
    if (s.type === 'int' && logical === 'date') return leaf('int', 'INT32', 'date');
    switch (s.type) {
      case 'record':
      case 'error': {
        registerNamed(s, named);
        const fields = (s.fields as { name: string; type: AvroSchema }[]).map((f) =>
          build(f.name, f.type, here, def + 1, rep),
        );
        return { kind: 'struct', name, fields };
      }
      case 'enum':
        registerNamed(s, named);
        return leaf('enum', 'BYTE_ARRAY');
      case 'fixed':
        registerNamed(s, named);
        return leaf('fixed', 'BYTE_ARRAY');
      case 'array': {
        const element = build('element', s.items as AvroSchema, [...here, 'list'], def + 2, rep + 1);
        return { kind: 'list', name, element };
      }
      case 'map': {
        const key = new LeafColumn([...here, 'key_value', 'key'], 'BYTE_ARRAY', def + 1, rep + 1);
        leaves.push(key);
        const value = build('value', s.values as AvroSchema, [...here, 'key_value'], def + 2, rep + 1);
        return {
          kind: 'map',
          name,
          key: { kind: 'leaf', name: 'key', required: true, leaf: key, type: 'string', logical: null },
          value,
        };
      }
      default:
        return build(name, s.type as AvroSchema, path, def, rep);
    }
  }

  const columns = table.columns.map((c) => build(c.name, c.avro, [], 1, 0));
  return { columns, leaves };
}
