/**
 * Avro binary straight into Parquet leaves: for each record type of a table, a reader compiled from its
 * contract walks a record body once and writes each value's bytes and levels into the leaf it belongs to (the
 * Dremel scheme: `r` the repetition level a value starts at, a null or empty node writing the definition level
 * where it stops). No JavaScript object is built per record.
 *
 * Avro binary (the parts read here): int and long as zigzag varints, float and double little-endian, boolean
 * one byte, bytes and string a long length then the bytes, enum a long index, fixed its size in bytes, union a
 * long branch index then the branch, array and map blocks of `count` items (a negative count is followed by
 * the block's byte size) ending with a zero count, record its fields in order.
 *
 * A body that is truncated, has a bad union index or length, or a long beyond 2^53 throws a TranscodeError;
 * the builder then rolls the leaves back and keeps the record as undecodable (its bytes in `_raw`).
 */
import type { AvroSchema } from '../columns.ts';
import type { LeafColumn } from './leaf-column.ts';
import { registerNamed, type SchemaNode } from './parquet-schema.ts';

export class TranscodeError extends Error {}

/** Where reading is in a record body. */
export interface Cursor {
  buf: Buffer;
  pos: number;
  end: number;
}

interface Emit {
  /** Reads one value of this node's Avro type and writes it, starting at repetition level `r`. */
  read(c: Cursor, r: number): void;
  /** Writes "no value below here" at levels (r, d) to every leaf under this node. */
  nul(r: number, d: number): void;
}

const TWO_32 = 2 ** 32;

export function readLong(c: Cursor): number {
  // Zigzag: the first byte's low bit is the sign; the rest, shifted right by one, the magnitude (kept exact).
  let b = c.buf[c.pos++];
  const negative = b & 1;
  let magnitude = (b & 0x7f) >>> 1;
  let scale = 64;
  while (b & 0x80) {
    if (c.pos >= c.end) throw new TranscodeError('truncated varint');
    b = c.buf[c.pos++];
    magnitude += (b & 0x7f) * scale;
    scale *= 128;
    if (scale > 2 ** 70) throw new TranscodeError('varint longer than 10 bytes');
  }
  if (c.pos > c.end) throw new TranscodeError('truncated varint');
  if (magnitude >= Number.MAX_SAFE_INTEGER)
    throw new TranscodeError('long beyond 2^53 cannot be read exactly');
  return negative ? -magnitude - 1 : magnitude;
}

function need(c: Cursor, n: number): void {
  if (n < 0 || c.pos + n > c.end) throw new TranscodeError(`length ${n} runs past the record's end`);
}

function putLong(leaf: LeafColumn, n: number, r: number): void {
  const hi = Math.floor(n / TWO_32);
  leaf.putInt64(n - hi * TWO_32, hi, r);
}

function leafEmit(node: SchemaNode & { kind: 'leaf' }, avro: AvroSchema): Emit {
  const leaf = node.leaf;
  const nul = (r: number, d: number) => leaf.nul(r, d);
  const s: { type: unknown; [key: string]: unknown } =
    typeof avro === 'object' && !Array.isArray(avro) ? avro : { type: avro };
  switch (s.type) {
    case 'string':
      return {
        read(c, r) {
          const len = readLong(c);
          need(c, len);
          const start = c.pos;
          c.pos += len;
          if (!leaf.putUtf8(c.buf, start, len, r)) {
            // As a decoder would read it: invalid sequences become U+FFFD, so the column stays valid UTF-8.
            const text = Buffer.from(c.buf.toString('utf8', start, c.pos), 'utf8');
            leaf.putBytes(text, 0, text.length, r);
          }
        },
        nul,
      };
    case 'bytes':
      return {
        read(c, r) {
          const len = readLong(c);
          need(c, len);
          leaf.putBytes(c.buf, c.pos, len, r);
          c.pos += len;
        },
        nul,
      };
    case 'fixed': {
      const size = Number(s.size);
      return {
        read(c, r) {
          need(c, size);
          leaf.putBytes(c.buf, c.pos, size, r);
          c.pos += size;
        },
        nul,
      };
    }
    case 'enum': {
      const symbols = (s.symbols as string[]).map((x) => Buffer.from(x, 'utf8'));
      return {
        read(c, r) {
          const i = readLong(c);
          const symbol = symbols[i];
          if (symbol === undefined) throw new TranscodeError(`enum index ${i} out of range`);
          leaf.putBytes(symbol, 0, symbol.length, r);
        },
        nul,
      };
    }
    case 'int':
      return {
        read(c, r) {
          leaf.putInt32(readLong(c), r);
        },
        nul,
      };
    case 'long':
      return {
        read(c, r) {
          putLong(leaf, readLong(c), r);
        },
        nul,
      };
    case 'float':
      return {
        read(c, r) {
          need(c, 4);
          leaf.putFloat(c.buf.readFloatLE(c.pos), r);
          c.pos += 4;
        },
        nul,
      };
    case 'double':
      return {
        read(c, r) {
          need(c, 8);
          leaf.putDouble(c.buf.readDoubleLE(c.pos), r);
          c.pos += 8;
        },
        nul,
      };
    case 'boolean':
      return {
        read(c, r) {
          need(c, 1);
          leaf.putBoolean(c.buf[c.pos++] !== 0, r);
        },
        nul,
      };
    default:
      throw new TranscodeError(`no leaf reader for Avro type ${String(s.type)}`);
  }
}

/** Every leaf under a node (for nulls). */
function leavesOf(node: SchemaNode): LeafColumn[] {
  switch (node.kind) {
    case 'leaf':
      return [node.leaf];
    case 'struct':
      return node.fields.flatMap(leavesOf);
    case 'list':
      return leavesOf(node.element);
    case 'map':
      return [node.key.leaf, ...leavesOf(node.value)];
  }
}

function nullsOf(node: SchemaNode): (r: number, d: number) => void {
  const leaves = leavesOf(node);
  return (r, d) => {
    for (const leaf of leaves) leaf.nul(r, d);
  };
}

/** Reads array or map blocks, calling `item(first)` per item; returns the number of items. */
function readBlocks(c: Cursor, item: (first: boolean) => void): number {
  let total = 0;
  for (;;) {
    let n = readLong(c);
    if (n === 0) return total;
    if (n < 0) {
      n = -n;
      readLong(c); // the block's byte size
    }
    for (let i = 0; i < n; i++) item(total++ === 0);
  }
}

/**
 * The reader of an Avro type (as the contract writes it) into the node built for its column; `def` is the
 * definition level at which the node holds a value, `rep` the number of lists and maps above it.
 */
function compile(
  avro: AvroSchema,
  node: SchemaNode,
  def: number,
  rep: number,
  named: Map<string, AvroSchema>,
): Emit {
  if (Array.isArray(avro)) {
    const nullIndex = avro.indexOf('null');
    const valueIndex = avro.findIndex((b) => b !== 'null');
    const inner = compile(avro[valueIndex], node, def, rep, named);
    return {
      read(c, r) {
        const i = readLong(c);
        if (i === valueIndex) inner.read(c, r);
        else if (i === nullIndex) inner.nul(r, def - 1);
        else throw new TranscodeError(`union index ${i} out of range`);
      },
      nul: inner.nul,
    };
  }
  if (typeof avro === 'string') {
    const ref = named.get(avro);
    return ref ? compile(ref, node, def, rep, named) : leafEmit(node as SchemaNode & { kind: 'leaf' }, avro);
  }
  if (typeof avro.type === 'object') return compile(avro.type as AvroSchema, node, def, rep, named);
  switch (node.kind) {
    case 'leaf':
      if (avro.type === 'enum' || avro.type === 'fixed') registerNamed(avro, named);
      return leafEmit(node, avro);
    case 'struct': {
      registerNamed(avro, named);
      const byName = new Map(node.fields.map((f) => [f.name, f]));
      const fields = (avro.fields as { name: string; type: AvroSchema }[]).map((f) => {
        const child = byName.get(f.name);
        if (!child) throw new TranscodeError(`field ${f.name} has no column`);
        return compile(f.type, child, def + 1, rep, named);
      });
      return {
        read(c, r) {
          for (const f of fields) f.read(c, r);
        },
        nul: nullsOf(node),
      };
    }
    case 'list': {
      // An item after the first repeats at this list's own level: one more than the lists above it.
      const element = compile(avro.items as AvroSchema, node.element, def + 2, rep + 1, named);
      const nul = nullsOf(node);
      return {
        read(c, r) {
          const n = readBlocks(c, (first) => element.read(c, first ? r : rep + 1));
          if (n === 0) nul(r, def);
        },
        nul,
      };
    }
    case 'map': {
      const key = node.key.leaf;
      const value = compile(avro.values as AvroSchema, node.value, def + 2, rep + 1, named);
      const again = rep + 1;
      const nul = nullsOf(node);
      return {
        read(c, r) {
          const n = readBlocks(c, (first) => {
            const len = readLong(c);
            need(c, len);
            key.putBytes(c.buf, c.pos, len, first ? r : again);
            c.pos += len;
            value.read(c, first ? r : again);
          });
          if (n === 0) nul(r, def);
        },
        nul,
      };
    }
  }
}

/**
 * The reader of one record type's bodies: reads the fields it has and writes nulls to the table's other
 * contract columns (`columns` maps a column name to its node).
 */
export function compileRecordReader(
  contract: AvroSchema,
  columns: ReadonlyMap<string, SchemaNode>,
): (c: Cursor) => void {
  if (typeof contract !== 'object' || Array.isArray(contract)) throw new TranscodeError('not a record');
  const named = new Map<string, AvroSchema>();
  registerNamed(contract, named);
  const fields = (contract.fields as { name: string; type: AvroSchema }[]).map((f) => {
    const node = columns.get(f.name);
    if (!node) throw new TranscodeError(`field ${f.name} has no column`);
    return compile(f.type, node, 1, 0, named);
  });
  const present = new Set((contract.fields as { name: string }[]).map((f) => f.name));
  const absent = [...columns].filter(([name]) => !present.has(name)).map(([, node]) => nullsOf(node));
  return (c) => {
    for (const f of fields) f.read(c, 0);
    for (const nul of absent) nul(0, 0);
    if (c.pos !== c.end) throw new TranscodeError(`${c.end - c.pos} bytes trail the record body`);
  };
}
