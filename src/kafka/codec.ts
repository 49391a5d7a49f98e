/**
 * croupier's Avro event codec: encodes contracts into Kafka record values in the Confluent wire format and
 * decodes them back, with schema ids from a Confluent-compatible schema registry. The ids are cached both ways
 * (schema-id-cache.ts), so after the first use of a (topic, record type) or a schema id, encode and decode make
 * no HTTP request; encoding reuses one scratch buffer.
 *
 * Decoding failures carry the codes the stream topology dead-letters on: CROUPIER_ERR_SERDE_MAGIC (no wire-format
 * header), CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA (id unknown to the registry, or not a croupier contract),
 * CROUPIER_ERR_SERDE_INCOMPATIBLE (writer schema unreadable as the contract), CROUPIER_ERR_SERDE_DECODE (bad body).
 * A registry that does not answer gives CROUPIER_ERR_REGISTRY_UNAVAILABLE: transient, retry, never dead-letter.
 */
import type avro from 'avsc';
import { boundAvroBlocks } from '../../streams/schemas/avro-block-bounds.ts';
import { exactAvroLongs } from '../../streams/schemas/avro-exact-longs.ts';
import type { RecordShapes, SchemaName, Schemas } from '../../streams/schemas/index.ts';
import { decodeBounded } from '../../streams/schemas/writer-read-cost.ts';
import { CroupierError } from '../errors/index.ts';
import { type Logger, silentLogger } from '../log/logger.ts';
import { type Contract, type Reader, type RegisteredSubject, SchemaIdCache } from './schema-id-cache.ts';
import type { TopicNames } from './subjects.ts';
import { HEADER_BYTES, readSchemaId, writeHeader } from './wire-format.ts';

export interface EventCodecOptions {
  /** Base URL of the schema registry (embedded or Confluent). */
  registryUrl: string;
  /** Basic auth for the registry. */
  auth?: { username: string; password: string };
  /** The parsed contracts (`loadSchemas()`); decoded values are read as these. */
  schemas: Schemas;
  logger?: Logger;
}

/** A decoded record: its contract, the writer's full Avro name and schema id, and the value. */
export type DecodedEvent = {
  [K in SchemaName]: { schemaName: K; fullName: string; schemaId: number; value: RecordShapes[K] };
}[SchemaName];

export interface EventCodec {
  /** The subject a record type registers under on `topic`. */
  subjectFor(topic: string, schemaName: SchemaName): string;
  /** Registers (idempotently) the schema of a record type for `topic`; resolves to its id. */
  register(topic: string, schemaName: SchemaName): Promise<number>;
  /** Registers every contract under every topic of croupier; call once at start. */
  registerAll(topics: TopicNames): Promise<RegisteredSubject[]>;
  /** A Kafka record value: wire-format header + Avro body. Registers the schema on first use. */
  encode<K extends SchemaName>(topic: string, schemaName: K, value: RecordShapes[K]): Promise<Buffer>;
  /** Decodes a wire-format record, fetching its writer schema from the registry on first sight of its id. */
  decode(buffer: Buffer): Promise<DecodedEvent>;
  /**
   * Decodes a wire-format record's body as written with the contract of `schemaName` itself, whatever its
   * header's schema id says; every byte must be read (else CROUPIER_ERR_SERDE_DECODE). For a record whose schema
   * id the registry no longer has (`details.missing` on CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA).
   */
  decodeAsContract(buffer: Buffer, schemaName: SchemaName): DecodedEvent;
  /**
   * Registers again the subjects whose schema id the registry no longer has (deleted with `?permanent=true`),
   * so later encodes carry an id readers can resolve; resolves to those subjects with their new ids.
   */
  recheckRegistered(): Promise<RegisteredSubject[]>;
  /**
   * `encode` without a promise, for hot paths: needs the (topic, record type) registered first
   * (`registerAll`), else throws CROUPIER_ERR_SERDE_ENCODE.
   */
  encodeSync<K extends SchemaName>(topic: string, schemaName: K, value: RecordShapes[K]): Buffer;
  /**
   * `decode` without a promise, for hot paths: `null` when the record's schema id is not cached yet (then
   * `await decode(buffer)` once). Bad bytes throw the same codes as `decode`.
   */
  decodeSync(buffer: Buffer): DecodedEvent | null;
  /**
   * For readers of Avro binary: the record's body as its contract's own schema writes it, `body[start..]` (the
   * record's bytes when the writer schema is the contract, re-encoded when an older writer schema was
   * resolved). `null` when the schema id is not cached yet (then `await contractBody(buffer)` once).
   */
  contractBodySync(buffer: Buffer): ContractBody | null;
  contractBody(buffer: Buffer): Promise<ContractBody>;
}

/** A record body in its contract's schema (`body[start..]`), named by the contract's full name. */
export interface ContractBody {
  kind: 'avro';
  recordType: string;
  schemaId: number;
  body: Buffer;
  start: number;
}

/** Creates a codec; no request is made until the first register, encode or decode. */
export function createEventCodec(options: EventCodecOptions): EventCodec {
  // Before any resolver exists: an array or map that says more items than its record has bytes is not read, and
  // a long is read with its sign.
  boundAvroBlocks();
  exactAvroLongs();
  const schemas = new SchemaIdCache({
    registryUrl: options.registryUrl,
    ...(options.auth ? { auth: options.auth } : {}),
    schemas: options.schemas,
    logger: (options.logger ?? silentLogger()).child({ component: 'event-codec' }),
  });
  let scratch = Buffer.allocUnsafe(16 * 1024);

  function encodeWith(id: number, schemaName: SchemaName, value: unknown): Buffer {
    const type = schemas.contract(schemaName).type;
    let end: number;
    try {
      end = type.encode(value, scratch, HEADER_BYTES);
      if (end < 0) {
        scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, HEADER_BYTES + scratch.length - end));
        end = type.encode(value, scratch, HEADER_BYTES);
      }
    } catch (error) {
      throw encodeFailure(type, schemaName, value, error);
    }
    writeHeader(scratch, id);
    return Buffer.from(scratch.subarray(0, end));
  }

  async function encode<K extends SchemaName>(
    topic: string,
    schemaName: K,
    value: RecordShapes[K],
  ): Promise<Buffer> {
    const id = schemas.idOf(topic, schemaName) ?? (await schemas.register(topic, schemaName));
    return encodeWith(id, schemaName, value);
  }

  function encodeSync<K extends SchemaName>(topic: string, schemaName: K, value: RecordShapes[K]): Buffer {
    const id = schemas.idOf(topic, schemaName);
    if (id === undefined) {
      throw new CroupierError(
        'CROUPIER_ERR_SERDE_ENCODE',
        `no schema id yet for ${schemaName} on topic ${topic}: call registerAll (or await encode once) before encodeSync`,
        { topic, schemaName },
      );
    }
    return encodeWith(id, schemaName, value);
  }

  function decodeWith(id: number, reader: Reader, buffer: Buffer): DecodedEvent {
    const { contract, resolver } = reader;
    let decoded: { value: unknown; offset: number };
    try {
      // Another writer's schema is read no further than the record's bytes (writer-read-cost.ts).
      decoded =
        resolver === undefined
          ? contract.type.decode(buffer, HEADER_BYTES)
          : decodeBounded(contract.type, buffer, HEADER_BYTES, resolver);
    } catch (error) {
      throw decodeFailure(id, contract, buffer, `its Avro body is invalid (${(error as Error).message})`);
    }
    if (decoded.offset < 0) throw decodeFailure(id, contract, buffer, 'its Avro body is truncated');
    if (decoded.offset !== buffer.length) {
      throw decodeFailure(
        id,
        contract,
        buffer,
        `${buffer.length - decoded.offset} bytes trail its Avro body`,
      );
    }
    return {
      schemaName: contract.name,
      fullName: contract.fullName,
      schemaId: id,
      value: decoded.value,
    } as DecodedEvent;
  }

  async function decode(buffer: Buffer): Promise<DecodedEvent> {
    const id = readSchemaId(buffer);
    return decodeWith(id, schemas.readerOf(id) ?? (await schemas.readerFor(id)), buffer);
  }

  function decodeSync(buffer: Buffer): DecodedEvent | null {
    const id = readSchemaId(buffer);
    const reader = schemas.readerOf(id);
    return reader ? decodeWith(id, reader, buffer) : null;
  }

  function bodyWith(id: number, reader: Reader, buffer: Buffer): ContractBody {
    const { contract } = reader;
    if (reader.resolver === undefined) {
      if (buffer.length < HEADER_BYTES) throw decodeFailure(id, contract, buffer, 'it has no Avro body');
      return { kind: 'avro', recordType: contract.fullName, schemaId: id, body: buffer, start: HEADER_BYTES };
    }
    const decoded = decodeWith(id, reader, buffer);
    return {
      kind: 'avro',
      recordType: contract.fullName,
      schemaId: id,
      body: contract.type.toBuffer(decoded.value),
      start: 0,
    };
  }

  return {
    contractBodySync(buffer) {
      const id = readSchemaId(buffer);
      const reader = schemas.readerOf(id);
      return reader ? bodyWith(id, reader, buffer) : null;
    },
    async contractBody(buffer) {
      const id = readSchemaId(buffer);
      return bodyWith(id, schemas.readerOf(id) ?? (await schemas.readerFor(id)), buffer);
    },
    decodeAsContract(buffer, schemaName) {
      const id = readSchemaId(buffer);
      return decodeWith(id, { contract: schemas.contract(schemaName), resolver: undefined }, buffer);
    },
    recheckRegistered: () => schemas.recheckRegistered(),
    subjectFor: (topic, schemaName) => schemas.subjectFor(topic, schemaName),
    register: (topic, schemaName) => schemas.register(topic, schemaName),
    registerAll: (topics: TopicNames) => schemas.registerAll(topics),
    encode,
    decode,
    encodeSync,
    decodeSync,
  };
}

function decodeFailure(id: number, contract: Contract, buffer: Buffer, why: string): CroupierError {
  return new CroupierError(
    'CROUPIER_ERR_SERDE_DECODE',
    `record of ${buffer.length} bytes with schema id ${id} (${contract.fullName}) cannot be decoded: ${why}`,
    { schemaId: id, schemaName: contract.name, length: buffer.length },
  );
}

function encodeFailure(
  type: avro.Type,
  schemaName: SchemaName,
  value: unknown,
  error: unknown,
): CroupierError {
  const problems: string[] = [];
  type.isValid(value, {
    errorHook: (path: string[], _value: unknown, expected: avro.Type) => {
      problems.push(`${path.join('.') || '(value)'} is not a valid ${expected.typeName}`);
    },
  });
  return new CroupierError(
    'CROUPIER_ERR_SERDE_ENCODE',
    `cannot encode the value as ${schemaName}: ${problems.length > 0 ? problems.join('; ') : (error as Error).message}`,
    { schemaName },
    { cause: error },
  );
}
