/**
 * croupier's Avro event codec: encodes contracts into Kafka record values in the Confluent wire format and
 * decodes them back, with schema ids from a Confluent-compatible schema registry. Ids are cached both ways, so
 * after the first use of a (topic, record type) or a schema id, encode and decode make no HTTP request.
 *
 * Decoding failures carry the codes the stream topology dead-letters on: CROUPIER_ERR_SERDE_MAGIC (no wire-format
 * header), CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA (id unknown to the registry, or not a croupier contract),
 * CROUPIER_ERR_SERDE_INCOMPATIBLE (writer schema unreadable as the contract), CROUPIER_ERR_SERDE_DECODE (bad body).
 * A registry that does not answer gives CROUPIER_ERR_REGISTRY_UNAVAILABLE: transient, retry, never dead-letter.
 */
// The client and its error class only: the package's index also loads every KMS SDK (~1 s of start-up).
import { RestError } from '@confluentinc/schemaregistry/dist/rest-error.js';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import avro from 'avsc';
import {
  type RecordShapes,
  readSchemaText,
  SCHEMA_NAMES,
  type SchemaName,
  type Schemas,
} from '../../streams/schemas/index.ts';
import { CroupierError } from '../errors/index.ts';
import { type Logger, silentLogger } from '../log/logger.ts';
import { subjectName, type TopicNames, topicContracts } from './subjects.ts';
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

export interface RegisteredSubject {
  topic: string;
  schemaName: SchemaName;
  subject: string;
  id: number;
}

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
   * `encode` without a promise, for hot paths: needs the (topic, record type) registered first
   * (`registerAll`), else throws CROUPIER_ERR_SERDE_ENCODE.
   */
  encodeSync<K extends SchemaName>(topic: string, schemaName: K, value: RecordShapes[K]): Buffer;
  /**
   * `decode` without a promise, for hot paths: `null` when the record's schema id is not cached yet (then
   * `await decode(buffer)` once). Bad bytes throw the same codes as `decode`.
   */
  decodeSync(buffer: Buffer): DecodedEvent | null;
}

interface Contract {
  name: SchemaName;
  fullName: string;
  type: avro.Type;
  /** Schema text registered for this contract. */
  text: string;
}

interface Reader {
  contract: Contract;
  /** Resolver from the writer's schema, when it differs from the contract. */
  resolver: avro.Resolver | undefined;
}

/** Creates a codec; no request is made until the first register, encode or decode. */
export function createEventCodec(options: EventCodecOptions): EventCodec {
  const logger = (options.logger ?? silentLogger()).child({ component: 'event-codec' });
  const client = new SchemaRegistryClient({
    baseURLs: [options.registryUrl],
    ...(options.auth
      ? {
          basicAuthCredentials: {
            credentialsSource: 'USER_INFO' as const,
            userInfo: `${options.auth.username}:${options.auth.password}`,
          },
        }
      : {}),
    maxRetries: 2,
    retriesWaitMs: 200,
    retriesMaxWaitMs: 2_000,
    createAxiosDefaults: { timeout: 10_000 },
  });

  const contracts = new Map<SchemaName, Contract>();
  const byFullName = new Map<string, Contract>();
  for (const name of SCHEMA_NAMES) {
    const contract = contractOf(name, options.schemas[name]);
    contracts.set(name, contract);
    byFullName.set(contract.fullName, contract);
  }

  /** topic → record type → schema id. */
  const ids = new Map<string, Map<SchemaName, number>>();
  const registering = new Map<string, Promise<number>>();
  const readers = new Map<number, Reader>();
  const fetching = new Map<number, Promise<Reader>>();
  let scratch = Buffer.allocUnsafe(16 * 1024);

  const subjectFor = (topic: string, schemaName: SchemaName): string =>
    subjectName(topic, schemaName, contracts.get(schemaName)!.fullName);

  async function register(topic: string, schemaName: SchemaName): Promise<number> {
    const known = ids.get(topic)?.get(schemaName);
    if (known !== undefined) return known;
    const subject = subjectFor(topic, schemaName);
    let pending = registering.get(subject);
    if (!pending) {
      const contract = contracts.get(schemaName)!;
      pending = client
        .register(subject, { schemaType: 'AVRO', schema: contract.text })
        .then((id) => {
          const forTopic = ids.get(topic) ?? new Map<SchemaName, number>();
          forTopic.set(schemaName, id);
          ids.set(topic, forTopic);
          readers.set(id, { contract, resolver: undefined });
          logger.debug({ subject, id }, 'schema registered');
          return id;
        })
        .catch((error: unknown) => {
          throw registryFailure(error, `register the schema of ${schemaName} under subject ${subject}`);
        })
        .finally(() => registering.delete(subject));
      registering.set(subject, pending);
    }
    return pending;
  }

  async function readerFor(id: number): Promise<Reader> {
    let pending = fetching.get(id);
    if (!pending) {
      pending = fetchReader(id).finally(() => fetching.delete(id));
      fetching.set(id, pending);
    }
    return pending;
  }

  async function fetchReader(id: number): Promise<Reader> {
    let text: string;
    try {
      text = (await client.getBySubjectAndId('', id)).schema;
    } catch (error) {
      if (error instanceof RestError && error.status === 404) {
        throw new CroupierError(
          'CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA',
          `schema id ${id} is not in the schema registry at ${options.registryUrl}: the record was written against another registry, or its schema was deleted`,
          { schemaId: id },
        );
      }
      throw registryFailure(error, `fetch schema id ${id}`);
    }
    let writer: avro.Type;
    try {
      writer = avro.Type.forSchema(JSON.parse(text));
    } catch (error) {
      throw new CroupierError(
        'CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA',
        `schema id ${id} is not a valid Avro schema`,
        { schemaId: id },
        { cause: error },
      );
    }
    const contract = writer.name ? byFullName.get(writer.name) : undefined;
    if (!contract) {
      throw new CroupierError(
        'CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA',
        `schema id ${id} is ${writer.name ?? `an unnamed ${writer.typeName}`}, which is none of croupier's contracts (${[...byFullName.keys()].join(', ')})`,
        { schemaId: id, writer: writer.name },
      );
    }
    let resolver: avro.Resolver | undefined;
    if (!contract.type.equals(writer)) {
      try {
        resolver = contract.type.createResolver(writer);
      } catch (error) {
        throw new CroupierError(
          'CROUPIER_ERR_SERDE_INCOMPATIBLE',
          `schema id ${id} (${contract.fullName}) cannot be read as croupier's ${contract.name} contract: ${(error as Error).message}`,
          { schemaId: id, schemaName: contract.name },
          { cause: error },
        );
      }
    }
    const reader: Reader = { contract, resolver };
    readers.set(id, reader);
    return reader;
  }

  function encodeWith(id: number, schemaName: SchemaName, value: unknown): Buffer {
    const type = contracts.get(schemaName)!.type;
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
    const id = ids.get(topic)?.get(schemaName) ?? (await register(topic, schemaName));
    return encodeWith(id, schemaName, value);
  }

  function encodeSync<K extends SchemaName>(topic: string, schemaName: K, value: RecordShapes[K]): Buffer {
    const id = ids.get(topic)?.get(schemaName);
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
      decoded = contract.type.decode(buffer, HEADER_BYTES, resolver);
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
    return decodeWith(id, readers.get(id) ?? (await readerFor(id)), buffer);
  }

  function decodeSync(buffer: Buffer): DecodedEvent | null {
    const id = readSchemaId(buffer);
    const reader = readers.get(id);
    return reader ? decodeWith(id, reader, buffer) : null;
  }

  async function registerAll(topics: TopicNames): Promise<RegisteredSubject[]> {
    const registered: RegisteredSubject[] = [];
    for (const { topic, schemaNames } of topicContracts(topics)) {
      for (const schemaName of schemaNames) {
        const id = await register(topic, schemaName);
        registered.push({ topic, schemaName, subject: subjectFor(topic, schemaName), id });
      }
    }
    return registered;
  }

  return { subjectFor, register, registerAll, encode, decode, encodeSync, decodeSync };
}

/** The contract's name and the text to register: the `.avsc` file when `type` is that file's schema. */
function contractOf(name: SchemaName, type: avro.Type): Contract {
  const fileText = readSchemaText(name);
  const fromFile = avro.Type.forSchema(JSON.parse(fileText));
  const text = fromFile.equals(type) ? fileText : JSON.stringify(type.schema({ exportAttrs: true }));
  return { name, fullName: type.name ?? name, type, text };
}

function registryFailure(error: unknown, what: string): CroupierError {
  if (error instanceof CroupierError) return error;
  if (error instanceof RestError && error.status >= 400 && error.status < 500) {
    return new CroupierError(
      'CROUPIER_ERR_REGISTRY_REJECTED',
      `the schema registry refused to ${what}: ${error.message}`,
      { status: error.status, errorCode: error.errorCode },
      { cause: error },
    );
  }
  return new CroupierError(
    'CROUPIER_ERR_REGISTRY_UNAVAILABLE',
    `could not ${what}: the schema registry did not answer (${(error as Error)?.message}); check schemaRegistry.url`,
    {},
    { cause: error },
  );
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
