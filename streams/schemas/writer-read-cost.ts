/**
 * Bounds the work of reading a record written with a writer schema that is not the contract's own. A named type can
 * be used many times, so a schema of a few KB can expand into a value of 10^12 fields: a record type of ten fields
 * of the one before it, twelve deep, ending in ten ints. avsc reads (or skips, for a field the contract lacks) every
 * one of them, past the end of the record as zeros, so one 41-byte Click with such a field held the topology and
 * archive threads for good. Two rules make the work of a read proportional to the record's bytes:
 *
 * - a writer schema is refused where one value, read up to its unions, arrays and maps (each of which reads at
 *   least a byte before its branch or items), visits more than MAX_VALUE_NODES types or more than
 *   MAX_NODES_PER_BYTE per byte it takes at least (`costlyReadPath`);
 * - a record of such a schema is read with a tap that stops at its first varint past the end, read or skipped
 *   (`decodeBounded`): union branches, array and map blocks, ints, longs, enums, strings and bytes each start with
 *   one, so nothing reads on as zeros once the record is spent.
 */
import { createRequire } from 'node:module';
import type avro from 'avsc';

/** Most types one value of a writer schema may visit, its unions, arrays and maps counted as one each. */
export const MAX_VALUE_NODES = 10_000;
/** Most types such a value may visit per byte it takes at least. */
export const MAX_NODES_PER_BYTE = 32;

interface TypeShape {
  typeName: string;
  underlyingType?: avro.Type;
  itemsType?: avro.Type;
  valuesType?: avro.Type;
  types?: avro.Type[];
  fields?: { name: string; type: avro.Type }[];
  size?: number;
}

interface Cost {
  /** Types visited to read one value, up to its unions, arrays and maps. */
  nodes: number;
  /** Bytes the value takes at least. */
  bytes: number;
}

const BYTES_OF: Readonly<Record<string, number>> = {
  null: 0,
  boolean: 1,
  int: 1,
  long: 1,
  float: 4,
  double: 8,
  bytes: 1,
  string: 1,
  enum: 1,
};

/**
 * Where reading a value of `type` could cost more than its bytes allow (e.g. `pad: 1.1e13 types to read at least
 * 1e13 bytes`), or null when nowhere. A record type that holds itself other than through a union, array or map has
 * no finite value and is reported too.
 */
export function costlyReadPath(type: avro.Type): string | null {
  const costs = new Map<avro.Type, Cost>();
  for (const value of valuesOf(type)) {
    const cost = costOf(value.type, costs, new Set());
    if (cost.nodes > MAX_VALUE_NODES || cost.nodes > MAX_NODES_PER_BYTE * Math.max(1, cost.bytes)) {
      return `${heaviest(value, costs)}: ${describe(cost.nodes)} types to read at least ${describe(cost.bytes)} bytes`;
    }
  }
  return null;
}

/** The types read as values of their own: the root, and each union branch, array item and map value. */
function valuesOf(root: avro.Type): { type: avro.Type; path: string }[] {
  const values = [{ type: root, path: '(root)' }];
  const asValue = new Set<avro.Type>([root]);
  const walked = new Set<avro.Type>();
  const walk = (type: avro.Type, path: string): void => {
    if (walked.has(type)) return;
    walked.add(type);
    const t = type as unknown as TypeShape;
    const value = (inner: avro.Type, innerPath: string) => {
      if (!asValue.has(inner)) {
        asValue.add(inner);
        values.push({ type: inner, path: innerPath });
      }
      walk(inner, innerPath);
    };
    if (t.underlyingType) walk(t.underlyingType, path);
    else if (t.itemsType) value(t.itemsType, `${path}[]`);
    else if (t.valuesType) value(t.valuesType, `${path}{}`);
    else if (t.types) for (const branch of t.types) value(branch, path);
    else
      for (const field of t.fields ?? [])
        walk(field.type, path === '(root)' ? field.name : `${path}.${field.name}`);
  };
  walk(root, '(root)');
  return values;
}

function costOf(type: avro.Type, costs: Map<avro.Type, Cost>, open: Set<avro.Type>): Cost {
  const known = costs.get(type);
  if (known) return known;
  const t = type as unknown as TypeShape;
  if (t.underlyingType) return costOf(t.underlyingType, costs, open);
  if (t.itemsType || t.valuesType || t.types) return { nodes: 1, bytes: 1 };
  if (t.typeName === 'fixed') return { nodes: 1, bytes: t.size ?? 0 };
  if (!t.fields) return { nodes: 1, bytes: BYTES_OF[t.typeName] ?? 0 };
  // A record that holds itself outside any union, array or map has no finite value.
  if (open.has(type)) return { nodes: Number.POSITIVE_INFINITY, bytes: 0 };
  open.add(type);
  const cost: Cost = { nodes: 1, bytes: 0 };
  for (const field of t.fields) {
    const inner = costOf(field.type, costs, open);
    cost.nodes += inner.nodes;
    cost.bytes += inner.bytes;
  }
  open.delete(type);
  costs.set(type, cost);
  return cost;
}

/** The value's path, down to its record field that costs the most to read (e.g. `pad` rather than the root). */
function heaviest(value: { type: avro.Type; path: string }, costs: Map<avro.Type, Cost>): string {
  const fields = (value.type as unknown as TypeShape).fields ?? [];
  let best: { name: string; nodes: number } | undefined;
  for (const field of fields) {
    const nodes = costs.get(field.type)?.nodes ?? 1;
    if (nodes > (best?.nodes ?? 1)) best = { name: field.name, nodes };
  }
  if (!best) return value.path;
  return value.path === '(root)' ? best.name : `${value.path}.${best.name}`;
}

function describe(n: number): string {
  return n < 1e6 ? String(n) : n.toExponential(1);
}

/** The part of avsc's Tap a bounded read uses. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  readInt(): number;
  skipLong(): void;
  skipInt(): void;
  isValid(): boolean;
}

type TapClass = new (buf: Buffer, pos: number) => Tap;

let boundedTap: TapClass | undefined;

/** avsc's Tap, whose every varint read or skipped past the end of its buffer throws instead of reading a zero. */
function boundedTapClass(): TapClass {
  if (boundedTap) return boundedTap;
  const { Tap } = createRequire(import.meta.url)('avsc/lib/utils.js') as { Tap: TapClass };
  class BoundedTap extends Tap {
    override readLong(): number {
      if (this.pos >= this.buf.length) throw new Error('the record ends before its value does');
      return super.readLong();
    }
    override readInt(): number {
      return this.readLong();
    }
    override skipLong(): void {
      if (this.pos >= this.buf.length) throw new Error('the record ends before its value does');
      super.skipLong();
    }
    override skipInt(): void {
      this.skipLong();
    }
  }
  boundedTap = BoundedTap;
  return BoundedTap;
}

/**
 * `reader.decode(buffer, start, resolver)` with a tap that stops at the first varint past the end of `buffer`
 * (an offset of -1 for a record cut short, as avsc's decode answers; other invalid bytes throw as there).
 */
export function decodeBounded(
  reader: avro.Type,
  buffer: Buffer,
  start: number,
  resolver: avro.Resolver,
): { value: unknown; offset: number } {
  const Tap = boundedTapClass();
  const tap = new Tap(buffer, start);
  let value: unknown;
  try {
    value = (resolver as unknown as { _read(tap: Tap): unknown })._read(tap);
  } catch (error) {
    if (tap.pos >= buffer.length) return { value: undefined, offset: -1 };
    throw error;
  }
  return tap.isValid() ? { value, offset: tap.pos } : { value: undefined, offset: -1 };
}
