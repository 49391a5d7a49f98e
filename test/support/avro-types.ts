/**
 * Avro schemas and types the decoding tests build: a logical type that counts the values it builds, and records
 * whose named types expand into many fields.
 */
import avro from 'avsc';

/** A logical type over a primitive that counts the values it builds (`Counted.built`); reads its own primitive. */
export class Counted extends avro.types.LogicalType {
  static built = 0;
  override _fromValue(value: unknown): unknown {
    Counted.built++;
    return value;
  }
  override _toValue(value: unknown): unknown {
    return value;
  }
  override _resolve(type: avro.Type): ((value: unknown) => unknown) | undefined {
    return avro.Type.isType(type, this.underlyingType.typeName, 'logical:counted')
      ? (value) => value
      : undefined;
  }
}

/**
 * A record of `width` fields of the record before it (named `R<d>`), `depth` deep, ending in `width` fields of
 * `leaf`: `width^(depth + 1)` leaves from a schema of a few KB. `throughUnions`: each field is `[R<d-1>, "null"]`.
 */
export function nestedRecords(depth: number, leaf: unknown, throughUnions = false, width = 10): unknown {
  let type: unknown = {
    type: 'record',
    name: 'R0',
    fields: Array.from({ length: width }, (_, i) => ({ name: `f${i}`, type: leaf })),
  };
  for (let d = 1; d <= depth; d++) {
    const again = throughUnions ? [`R${d - 1}`, 'null'] : `R${d - 1}`;
    type = {
      type: 'record',
      name: `R${d}`,
      fields: [
        { name: 'g0', type: throughUnions ? [type, 'null'] : type },
        ...Array.from({ length: width - 1 }, (_, i) => ({ name: `g${i + 1}`, type: again })),
      ],
    };
  }
  return type;
}
