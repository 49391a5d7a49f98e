/**
 * Finds an array in an Avro schema whose items take no bytes (null, a record of such fields, a fixed of size 0).
 * An array's block count is a varint: with items of zero bytes, a record of a few bytes can say 2^50 items, and
 * avsc's decoder (or its skip of a field the reader does not have) loops that many times on the thread that reads
 * it. A record of any other item type holds at most as many items as it has bytes.
 */
import type avro from 'avsc';

/** The path of the first array whose items take no bytes (e.g. `pad`, `items[].extra`), or null when none. */
export function zeroByteArrayPath(type: avro.Type): string | null {
  return findIn(type, '', new Set());
}

function findIn(type: avro.Type, path: string, seen: Set<avro.Type>): string | null {
  if (seen.has(type)) return null;
  seen.add(type);
  const t = type as unknown as {
    typeName: string;
    itemsType?: avro.Type;
    valuesType?: avro.Type;
    types?: avro.Type[];
    fields?: { name: string; type: avro.Type }[];
    underlyingType?: avro.Type;
  };
  if (t.underlyingType) return findIn(t.underlyingType, path, seen);
  if (t.typeName === 'array' && t.itemsType) {
    if (takesNoBytes(t.itemsType, new Set())) return path || '(root)';
    return findIn(t.itemsType, `${path}[]`, seen);
  }
  if (t.typeName === 'map' && t.valuesType) return findIn(t.valuesType, `${path}{}`, seen);
  if (t.typeName === 'union' && t.types) {
    for (const branch of t.types) {
      const found = findIn(branch, path, seen);
      if (found) return found;
    }
    return null;
  }
  if (t.fields) {
    for (const field of t.fields) {
      const found = findIn(field.type, path ? `${path}.${field.name}` : field.name, seen);
      if (found) return found;
    }
  }
  return null;
}

/** Whether every value of `type` is encoded in zero bytes. */
function takesNoBytes(type: avro.Type, seen: Set<avro.Type>): boolean {
  const t = type as unknown as {
    typeName: string;
    fields?: { type: avro.Type }[];
    size?: number;
    underlyingType?: avro.Type;
  };
  if (t.underlyingType) return takesNoBytes(t.underlyingType, seen);
  if (t.typeName === 'null') return true;
  if (t.typeName === 'fixed') return t.size === 0;
  if (t.fields) {
    if (seen.has(type)) return false;
    seen.add(type);
    return t.fields.every((field) => takesNoBytes(field.type, seen));
  }
  return false;
}
