/**
 * Avro schema parsing and compatibility rules of the registry. Compatibility is decided by avsc's schema
 * resolution: `reader.createResolver(writer)` throws exactly when data written with `writer` cannot be read
 * with `reader` (a field without default added, a type changed in a way Avro cannot promote, ...).
 */
import avro from 'avsc';
import { RegistryHttpError } from './http-error.ts';

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

export interface ParsedSchema {
  type: avro.Type;
  /** The schema text without insignificant whitespace: what the registry stores, returns and dedups on. */
  canonical: string;
}

/** Parses an Avro schema text, or refuses it with Confluent's 42201 "invalid schema". */
export function parseAvroSchema(text: string): ParsedSchema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RegistryHttpError(
      'INVALID_SCHEMA',
      `Invalid schema: the schema is not valid JSON (${message(error)})`,
    );
  }
  try {
    const type = avro.Type.forSchema(json as avro.Schema);
    return { type, canonical: JSON.stringify(json) };
  } catch (error) {
    throw new RegistryHttpError(
      'INVALID_SCHEMA',
      `Invalid schema: not a valid Avro schema (${message(error)})`,
    );
  }
}

export interface PreviousVersion {
  version: number;
  type: avro.Type;
}

/**
 * Why `candidate` may not follow `previous` (oldest first) under `level`; an empty list when it may.
 * Non-transitive levels compare with the latest version only, transitive ones with every version.
 */
export function incompatibilities(
  level: CompatibilityLevel,
  candidate: avro.Type,
  previous: readonly PreviousVersion[],
): string[] {
  if (level === 'NONE' || previous.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const problems: string[] = [];
  for (const old of against) {
    if (backward) {
      const why = unreadable(candidate, old.type);
      if (why) problems.push(`the new schema cannot read data written with version ${old.version}: ${why}`);
    }
    if (forward) {
      const why = unreadable(old.type, candidate);
      if (why) problems.push(`version ${old.version} cannot read data written with the new schema: ${why}`);
    }
  }
  return problems;
}

/** Compares two schemas under one level as a pair (the compatibility endpoint with an explicit version). */
export function pairIncompatibilities(
  level: CompatibilityLevel,
  candidate: avro.Type,
  old: PreviousVersion,
): string[] {
  const pairLevel = level.replace('_TRANSITIVE', '') as CompatibilityLevel;
  return incompatibilities(pairLevel, candidate, [old]);
}

function unreadable(reader: avro.Type, writer: avro.Type): string | null {
  try {
    reader.createResolver(writer);
    return null;
  } catch (error) {
    return message(error);
  }
}

/** avsc quotes whole schemas in some messages; keep what a reader needs. */
function message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
}
