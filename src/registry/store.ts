/**
 * The registry's state and rules, in memory: schemas by id, subjects as ordered version lists, compatibility
 * levels. Every operation is synchronous and throws a `RegistryHttpError` with Confluent's error code when
 * refused; the HTTP layer only translates. Changes are reported through `onChange` so they can be persisted.
 */
import type avro from 'avsc';
import {
  type CompatibilityLevel,
  DEFAULT_COMPATIBILITY,
  incompatibilities,
  type PreviousVersion,
  pairIncompatibilities,
  parseAvroSchema,
} from './compatibility.ts';
import { RegistryHttpError } from './http-error.ts';
import type { RegistryState } from './persistence.ts';

export interface StoredSchema {
  id: number;
  schemaType: 'AVRO';
  /** Canonical text (JSON without insignificant whitespace). */
  schema: string;
  type: avro.Type;
}

export interface SubjectVersion {
  version: number;
  id: number;
  deleted: boolean;
}

export interface VersionInfo {
  subject: string;
  version: number;
  id: number;
  schema: string;
}

export type VersionSelector = number | 'latest';

const MAX_VERSION = 2 ** 31 - 1;

/** Parses a version path segment: `latest`, `-1` (latest) or 1..2^31-1; otherwise Confluent's 42202. */
export function parseVersion(text: string): VersionSelector {
  if (text === 'latest' || text === '-1') return 'latest';
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_VERSION) {
    throw new RegistryHttpError(
      'INVALID_VERSION',
      `The specified version '${text}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    );
  }
  return n;
}

/** What the registry holds at most (each parsed schema also costs a compiled type, several times its text). */
export interface RegistryLimits {
  /** Longest schema text registered, in characters. */
  maxSchemaChars: number;
  /** Most schema text held in all, in characters. */
  maxStoredChars: number;
}

export const DEFAULT_REGISTRY_LIMITS: RegistryLimits = {
  maxSchemaChars: 1024 * 1024,
  maxStoredChars: 64 * 1024 * 1024,
};

export class RegistryStore {
  private readonly schemasById = new Map<number, StoredSchema>();
  /** Characters of schema text held (the canonical forms). */
  private storedChars = 0;
  private readonly idsByCanonical = new Map<string, number>();
  private readonly subjects = new Map<string, SubjectVersion[]>();
  private readonly subjectLevels = new Map<string, CompatibilityLevel>();
  private globalLevel: CompatibilityLevel = DEFAULT_COMPATIBILITY;
  private nextId = 1;

  constructor(
    private readonly onChange: (state: RegistryState) => void = () => undefined,
    initial?: RegistryState | null,
    private readonly limits: RegistryLimits = DEFAULT_REGISTRY_LIMITS,
  ) {
    if (initial) this.restore(initial);
  }

  // ---- schemas -------------------------------------------------------------------------------------------

  schemaById(id: number): StoredSchema {
    const schema = this.schemasById.get(id);
    if (!schema) throw new RegistryHttpError('SCHEMA_NOT_FOUND', `Schema ${id} not found`);
    return schema;
  }

  /** Every (subject, version) that uses schema `id`, soft-deleted ones only when asked. */
  usesOf(id: number, deleted = false): { subject: string; version: number }[] {
    this.schemaById(id);
    const uses: { subject: string; version: number }[] = [];
    for (const [subject, versions] of this.subjects) {
      for (const v of versions) {
        if (v.id === id && (deleted || !v.deleted)) uses.push({ subject, version: v.version });
      }
    }
    return uses.sort((a, b) =>
      a.subject === b.subject ? a.version - b.version : a.subject < b.subject ? -1 : 1,
    );
  }

  // ---- subjects ------------------------------------------------------------------------------------------

  subjectNames(deleted = false): string[] {
    const names: string[] = [];
    for (const [subject, versions] of this.subjects) {
      if (deleted || versions.some((v) => !v.deleted)) names.push(subject);
    }
    return names.sort();
  }

  versionNumbers(subject: string, deleted = false): number[] {
    return this.versionsOf(subject, deleted).map((v) => v.version);
  }

  getVersion(subject: string, selector: VersionSelector, deleted = false): VersionInfo {
    const versions = this.versionsOf(subject, deleted);
    const found =
      selector === 'latest' ? versions[versions.length - 1] : versions.find((v) => v.version === selector);
    if (!found) {
      throw new RegistryHttpError(
        'VERSION_NOT_FOUND',
        `Version ${selector} not found for subject '${subject}'`,
      );
    }
    return this.info(subject, found);
  }

  /** Registers `text` under `subject`: the existing version when already there, else a new checked version. */
  register(subject: string, text: string): VersionInfo {
    const parsed = this.parse(text);
    const versions = this.subjects.get(subject) ?? [];
    const existingId = this.idsByCanonical.get(parsed.canonical);
    const live = versions.filter((v) => !v.deleted);
    const same = existingId === undefined ? undefined : live.find((v) => v.id === existingId);
    if (same) return this.info(subject, same);

    const level = this.levelOf(subject);
    const previous: PreviousVersion[] = live.map((v) => ({
      version: v.version,
      type: this.schemaById(v.id).type,
    }));
    const problems = incompatibilities(level, parsed.type, previous);
    if (problems.length > 0) {
      throw new RegistryHttpError(
        'INCOMPATIBLE_SCHEMA',
        `Schema being registered is incompatible with an earlier schema for subject "${subject}" under ${level} compatibility, details: ${problems.join('; ')}`,
      );
    }
    if (existingId === undefined && this.storedChars + parsed.canonical.length > this.limits.maxStoredChars) {
      throw new RegistryHttpError(
        'PAYLOAD_TOO_LARGE',
        `This registry holds ${this.storedChars} characters of schemas; ${parsed.canonical.length} more would pass its limit of ${this.limits.maxStoredChars} (schemaRegistry.embedded.maxStoredChars). Delete unused subjects permanently, or raise the limit`,
      );
    }
    const id = existingId ?? this.addSchema(parsed.canonical, parsed.type);
    const version = versions.reduce((max, v) => Math.max(max, v.version), 0) + 1;
    const entry: SubjectVersion = { version, id, deleted: false };
    this.subjects.set(subject, [...versions, entry]);
    this.changed();
    return this.info(subject, entry);
  }

  /** The version of `subject` that holds exactly `text`. */
  lookup(subject: string, text: string, deleted = false): VersionInfo {
    const parsed = this.parse(text);
    const versions = this.versionsOf(subject, deleted);
    const id = this.idsByCanonical.get(parsed.canonical);
    const found = id === undefined ? undefined : versions.findLast((v) => v.id === id);
    if (!found)
      throw new RegistryHttpError('SCHEMA_NOT_FOUND', `Schema not found under subject '${subject}'`);
    return this.info(subject, found);
  }

  /** Why `text` may not be registered next to `subject`'s version(s); empty when it may. */
  checkCompatibility(subject: string, selector: VersionSelector | 'all', text: string): string[] {
    const parsed = this.parse(text);
    const level = this.levelOf(subject);
    const live = this.versionsOf(subject);
    if (selector === 'all') {
      const previous = live.map((v) => ({ version: v.version, type: this.schemaById(v.id).type }));
      return incompatibilities(level, parsed.type, previous);
    }
    const target = this.getVersion(subject, selector);
    return pairIncompatibilities(level, parsed.type, {
      version: target.version,
      type: this.schemaById(target.id).type,
    });
  }

  /** Soft-deletes every version (or, with `permanent`, removes a soft-deleted subject). Returns the versions. */
  deleteSubject(subject: string, permanent: boolean): number[] {
    const versions = this.subjects.get(subject);
    if (!versions || versions.length === 0) {
      throw new RegistryHttpError('SUBJECT_NOT_FOUND', `Subject '${subject}' not found.`);
    }
    const live = versions.filter((v) => !v.deleted);
    if (permanent) {
      if (live.length > 0) {
        throw new RegistryHttpError(
          'SUBJECT_NOT_SOFT_DELETED',
          `Subject '${subject}' was not deleted first before being permanently deleted`,
        );
      }
      this.subjects.delete(subject);
      this.subjectLevels.delete(subject);
      this.collectUnusedSchemas();
      this.changed();
      return versions.map((v) => v.version);
    }
    if (live.length === 0) {
      throw new RegistryHttpError(
        'SUBJECT_SOFT_DELETED',
        `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`,
      );
    }
    this.subjects.set(
      subject,
      versions.map((v) => ({ ...v, deleted: true })),
    );
    this.changed();
    return live.map((v) => v.version);
  }

  /** Soft-deletes one version (or, with `permanent`, removes a soft-deleted one). Returns its number. */
  deleteVersion(subject: string, selector: VersionSelector, permanent: boolean): number {
    const versions = this.subjects.get(subject);
    if (!versions || versions.length === 0) {
      throw new RegistryHttpError('SUBJECT_NOT_FOUND', `Subject '${subject}' not found.`);
    }
    const target = this.getVersion(subject, selector, permanent);
    const entry = versions.find((v) => v.version === target.version)!;
    if (permanent) {
      if (!entry.deleted) {
        throw new RegistryHttpError(
          'VERSION_NOT_SOFT_DELETED',
          `Subject '${subject}' Version ${entry.version} was not deleted first before being permanently deleted`,
        );
      }
      const rest = versions.filter((v) => v !== entry);
      if (rest.length === 0) this.subjects.delete(subject);
      else this.subjects.set(subject, rest);
      this.collectUnusedSchemas();
    } else {
      if (entry.deleted) {
        throw new RegistryHttpError(
          'VERSION_SOFT_DELETED',
          `Subject '${subject}' Version ${entry.version} was soft deleted. Set permanent=true to delete permanently`,
        );
      }
      this.subjects.set(
        subject,
        versions.map((v) => (v === entry ? { ...v, deleted: true } : v)),
      );
    }
    this.changed();
    return entry.version;
  }

  // ---- compatibility levels ------------------------------------------------------------------------------

  get compatibility(): CompatibilityLevel {
    return this.globalLevel;
  }

  setCompatibility(level: CompatibilityLevel): void {
    this.globalLevel = level;
    this.changed();
  }

  /** The subject's own level, if one was set. */
  subjectCompatibility(subject: string): CompatibilityLevel | undefined {
    return this.subjectLevels.get(subject);
  }

  setSubjectCompatibility(subject: string, level: CompatibilityLevel): void {
    this.subjectLevels.set(subject, level);
    this.changed();
  }

  /** Removes the subject's own level; returns the level it had. */
  clearSubjectCompatibility(subject: string): CompatibilityLevel {
    const level = this.subjectLevels.get(subject);
    if (!level) {
      throw new RegistryHttpError(
        'SUBJECT_CONFIG_NOT_FOUND',
        `Subject '${subject}' does not have subject-level compatibility configured`,
      );
    }
    this.subjectLevels.delete(subject);
    this.changed();
    return level;
  }

  levelOf(subject: string): CompatibilityLevel {
    return this.subjectLevels.get(subject) ?? this.globalLevel;
  }

  // ---- state ---------------------------------------------------------------------------------------------

  snapshot(): RegistryState {
    return {
      format: 1,
      nextId: this.nextId,
      schemas: [...this.schemasById.values()].map(({ id, schemaType, schema }) => ({
        id,
        schemaType,
        schema,
      })),
      subjects: Object.fromEntries(
        [...this.subjects].map(([s, versions]) => [s, versions.map((v) => ({ ...v }))]),
      ),
      compatibility: this.globalLevel,
      subjectCompatibility: Object.fromEntries(this.subjectLevels),
    };
  }

  private restore(state: RegistryState): void {
    for (const saved of state.schemas) {
      const parsed = parseAvroSchema(saved.schema);
      this.schemasById.set(saved.id, {
        id: saved.id,
        schemaType: 'AVRO',
        schema: parsed.canonical,
        type: parsed.type,
      });
      this.idsByCanonical.set(parsed.canonical, saved.id);
      this.storedChars += parsed.canonical.length;
    }
    for (const [subject, versions] of Object.entries(state.subjects)) {
      this.subjects.set(
        subject,
        versions.map((v) => ({ ...v })),
      );
    }
    for (const [subject, level] of Object.entries(state.subjectCompatibility))
      this.subjectLevels.set(subject, level);
    this.globalLevel = state.compatibility;
    const maxId = Math.max(0, ...this.schemasById.keys());
    this.nextId = Math.max(state.nextId, maxId + 1);
  }

  private versionsOf(subject: string, deleted = false): SubjectVersion[] {
    const versions = (this.subjects.get(subject) ?? []).filter((v) => deleted || !v.deleted);
    if (versions.length === 0)
      throw new RegistryHttpError('SUBJECT_NOT_FOUND', `Subject '${subject}' not found.`);
    return versions;
  }

  private info(subject: string, v: SubjectVersion): VersionInfo {
    return { subject, version: v.version, id: v.id, schema: this.schemaById(v.id).schema };
  }

  private addSchema(canonical: string, type: avro.Type): number {
    const id = this.nextId++;
    this.schemasById.set(id, { id, schemaType: 'AVRO', schema: canonical, type });
    this.idsByCanonical.set(canonical, id);
    this.storedChars += canonical.length;
    return id;
  }

  /** After a permanent delete, schemas no version refers to any more stop resolving (as in Confluent). */
  private collectUnusedSchemas(): void {
    const used = new Set<number>();
    for (const versions of this.subjects.values()) for (const v of versions) used.add(v.id);
    for (const [id, schema] of this.schemasById) {
      if (!used.has(id)) {
        this.schemasById.delete(id);
        this.idsByCanonical.delete(schema.schema);
        this.storedChars -= schema.schema.length;
      }
    }
  }

  /**
   * A schema a client sent (to register, look up or check), parsed: its length is checked first, since a schema
   * costs the thread that parses it about a second per 5 MB, and a registered one its compiled type, several times
   * its size, for as long as the registry runs.
   */
  private parse(text: string): ReturnType<typeof parseAvroSchema> {
    if (text.length > this.limits.maxSchemaChars) {
      throw new RegistryHttpError(
        'PAYLOAD_TOO_LARGE',
        `Schema of ${text.length} characters is over this registry's limit of ${this.limits.maxSchemaChars} (schemaRegistry.embedded.maxSchemaChars)`,
      );
    }
    return parseAvroSchema(text);
  }

  private changed(): void {
    this.onChange(this.snapshot());
  }
}
