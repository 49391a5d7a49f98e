import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  incompatibilities,
  parseAvroSchema,
} from '../../src/registry/compatibility.ts';
import { RegistryHttpError } from '../../src/registry/http-error.ts';

const type = (fields: object[]) =>
  avro.Type.forSchema({ type: 'record', name: 'Event', fields } as avro.Schema);

const base = type([{ name: 'id', type: 'string' }]);
const addedWithDefault = type([
  { name: 'id', type: 'string' },
  { name: 'n', type: 'int', default: 0 },
]);
const addedWithoutDefault = type([
  { name: 'id', type: 'string' },
  { name: 'n', type: 'int' },
]);
const widened = type([{ name: 'id', type: ['null', 'string'], default: null }]);
const retyped = type([{ name: 'id', type: 'int' }]);

/** Which levels accept `next` after `[previous...]`, in COMPATIBILITY_LEVELS order. */
function accepted(next: avro.Type, previous: avro.Type[]): CompatibilityLevel[] {
  const versions = previous.map((t, i) => ({ version: i + 1, type: t }));
  return COMPATIBILITY_LEVELS.filter((level) => incompatibilities(level, next, versions).length === 0);
}

describe('Avro compatibility levels', () => {
  it('accepts a field added with a default under every level', () => {
    expect(accepted(addedWithDefault, [base])).toEqual([...COMPATIBILITY_LEVELS]);
  });

  it('accepts a field added without a default only where new data meets old readers', () => {
    expect(accepted(addedWithoutDefault, [base])).toEqual(['NONE', 'FORWARD', 'FORWARD_TRANSITIVE']);
  });

  it('accepts widening a string to an optional string only where old data meets new readers', () => {
    expect(accepted(widened, [base])).toEqual(['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE']);
  });

  it('refuses a changed field type under every level but NONE', () => {
    expect(accepted(retyped, [base])).toEqual(['NONE']);
  });

  it('compares transitive levels with every version, the others with the latest only', () => {
    // addedWithoutDefault reads addedWithDefault's data, not base's.
    expect(accepted(addedWithoutDefault, [base, addedWithDefault])).toEqual([
      'NONE',
      'BACKWARD',
      'FORWARD',
      'FORWARD_TRANSITIVE',
      'FULL',
    ]);
  });

  it('explains each refusal with the version and the field', () => {
    const [problem] = incompatibilities('BACKWARD', retyped, [{ version: 3, type: base }]);
    expect(problem).toMatch(/version 3/);
    expect(problem).toMatch(/int|string/);
  });

  it('refuses schema texts that are not JSON or not Avro with 42201', () => {
    for (const text of [
      '{',
      '{"type":"record","name":"X"}',
      '"strin"',
      '{"type":"enum","name":"E","symbols":[1]}',
    ]) {
      const error = (() => {
        try {
          parseAvroSchema(text);
          return null;
        } catch (e) {
          return e;
        }
      })();
      expect(error, text).toBeInstanceOf(RegistryHttpError);
      expect((error as RegistryHttpError).errorCode).toBe(42201);
    }
  });
});
