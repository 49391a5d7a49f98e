/**
 * The codec's schema ids, cached both ways: (topic, record type) → id, registered once per subject even when
 * many encodes ask at once, and id → reader (the contract, and a resolver when the writer's schema differs),
 * fetched once per id. After the first use of each, encode and decode make no HTTP request.
 */
// The client and its error class only: the package's index also loads every KMS SDK (~1 s of start-up).
import { RestError } from '@confluentinc/schemaregistry/dist/rest-error.js';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import avro from 'avsc';
import { readSchemaText, SCHEMA_NAMES, type SchemaName, type Schemas } from '../../streams/schemas/index.ts';
import { costlyReadPath } from '../../streams/schemas/writer-read-cost.ts';
import { zeroByteArrayPath } from '../../streams/schemas/zero-byte-arrays.ts';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import { subjectName, type TopicNames, topicContracts } from './subjects.ts';

export interface Contract {
  name: SchemaName;
  fullName: string;
  type: avro.Type;
  /** Schema text registered for this contract. */
  text: string;
}

export interface Reader {
  contract: Contract;
  /** Resolver from the writer's schema, when it differs from the contract. */
  resolver: avro.Resolver | undefined;
}

export interface RegisteredSubject {
  topic: string;
  schemaName: SchemaName;
  subject: string;
  id: number;
}

export interface SchemaIdCacheOptions {
  /** Base URL of the schema registry (embedded or Confluent). */
  registryUrl: string;
  /** Basic auth for the registry. */
  auth?: { username: string; password: string };
  /** The parsed contracts (`loadSchemas()`). */
  schemas: Schemas;
  logger: Logger;
}

/** How long a schema id the registry answered 404 for is taken as missing before it is asked for again. */
const MISSING_RECHECK_MS = 5_000;
/** Missing ids remembered at most (records with made-up ids must not grow the map without bound). */
const MAX_MISSING_IDS = 10_000;
/** Refused schema ids remembered at most, as missing ones. */
const MAX_REFUSED_IDS = 10_000;

export class SchemaIdCache {
  private readonly client: SchemaRegistryClient;
  private readonly registryUrl: string;
  private readonly logger: Logger;
  private readonly contracts = new Map<SchemaName, Contract>();
  private readonly byFullName = new Map<string, Contract>();
  /** topic → record type → schema id. */
  private readonly ids = new Map<string, Map<SchemaName, number>>();
  private readonly registering = new Map<string, Promise<number>>();
  private readonly readers = new Map<number, Reader>();
  private readonly fetching = new Map<number, Promise<Reader>>();
  /** Ids the registry answered 404 for → when to ask again (a flood of such records asks once a while). */
  private readonly missing = new Map<number, number>();
  /**
   * Ids whose schema is refused (not Avro, none of the contracts, unreadable as one) → why. An id names one schema
   * for good, so each is judged once: parsing a schema of megabytes again for each record that names it held the
   * topology and archive threads a second or two per 6-byte record.
   */
  private readonly refused = new Map<number, CroupierError>();

  private readonly authHeaders: Record<string, string>;

  constructor(options: SchemaIdCacheOptions) {
    this.registryUrl = options.registryUrl;
    this.authHeaders = options.auth
      ? {
          authorization: `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`,
        }
      : {};
    this.logger = options.logger;
    this.client = new SchemaRegistryClient({
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
    for (const name of SCHEMA_NAMES) {
      const contract = contractOf(name, options.schemas[name]);
      this.contracts.set(name, contract);
      this.byFullName.set(contract.fullName, contract);
    }
  }

  /** The contract of a record type. */
  contract(schemaName: SchemaName): Contract {
    return this.contracts.get(schemaName)!;
  }

  subjectFor(topic: string, schemaName: SchemaName): string {
    return subjectName(topic, schemaName, this.contract(schemaName).fullName);
  }

  /** The id of a record type on `topic`, when it is registered already. */
  idOf(topic: string, schemaName: SchemaName): number | undefined {
    return this.ids.get(topic)?.get(schemaName);
  }

  async register(topic: string, schemaName: SchemaName): Promise<number> {
    const known = this.ids.get(topic)?.get(schemaName);
    if (known !== undefined) return known;
    const subject = this.subjectFor(topic, schemaName);
    let pending = this.registering.get(subject);
    if (!pending) {
      const contract = this.contract(schemaName);
      pending = this.client
        .register(subject, { schemaType: 'AVRO', schema: contract.text })
        .then((id) => {
          const forTopic = this.ids.get(topic) ?? new Map<SchemaName, number>();
          forTopic.set(schemaName, id);
          this.ids.set(topic, forTopic);
          this.readers.set(id, { contract, resolver: undefined });
          this.logger.debug({ subject, id }, 'schema registered');
          return id;
        })
        .catch((error: unknown) => {
          throw registryFailure(error, `register the schema of ${schemaName} under subject ${subject}`);
        })
        .finally(() => this.registering.delete(subject));
      this.registering.set(subject, pending);
    }
    return pending;
  }

  /** The reader of a schema id, when it is cached already. */
  readerOf(id: number): Reader | undefined {
    return this.readers.get(id);
  }

  /** The reader of a schema id, fetched from the registry on first sight of the id. */
  async readerFor(id: number): Promise<Reader> {
    const refused = this.refused.get(id);
    if (refused) throw refused;
    const askAgainAt = this.missing.get(id);
    if (askAgainAt !== undefined && Date.now() < askAgainAt) throw this.missingSchema(id);
    let pending = this.fetching.get(id);
    if (!pending) {
      pending = this.fetchReader(id).finally(() => this.fetching.delete(id));
      this.fetching.set(id, pending);
    }
    return pending;
  }

  private async fetchReader(id: number): Promise<Reader> {
    let text: string;
    try {
      text = (await this.client.getBySubjectAndId('', id)).schema;
    } catch (error) {
      if (error instanceof RestError && error.status === 404) {
        if (this.missing.size >= MAX_MISSING_IDS) this.missing.clear();
        this.missing.set(id, Date.now() + MISSING_RECHECK_MS);
        throw this.missingSchema(id);
      }
      throw registryFailure(error, `fetch schema id ${id}`);
    }
    this.missing.delete(id);
    let reader: Reader;
    try {
      reader = this.judge(id, text);
    } catch (error) {
      if (this.refused.size >= MAX_REFUSED_IDS) this.refused.clear();
      this.refused.set(id, error as CroupierError);
      throw error;
    }
    this.readers.set(id, reader);
    return reader;
  }

  /** The reader of schema `id` whose text is `text`; throws why croupier cannot read records written with it. */
  private judge(id: number, text: string): Reader {
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
    const contract = writer.name ? this.byFullName.get(writer.name) : undefined;
    if (!contract) {
      throw new CroupierError(
        'CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA',
        `schema id ${id} is ${writer.name ?? `an unnamed ${writer.typeName}`}, which is none of croupier's contracts (${[...this.byFullName.keys()].join(', ')})`,
        { schemaId: id, writer: writer.name },
      );
    }
    const endless = zeroByteArrayPath(writer);
    if (endless !== null) {
      throw new CroupierError(
        'CROUPIER_ERR_SERDE_INCOMPATIBLE',
        `schema id ${id} (${contract.fullName}) has an array whose items take no bytes (${endless}): a record of a few bytes can say it holds 2^50 of them, and reading it would not end. Give the array's items a type that takes bytes, or remove it`,
        { schemaId: id, schemaName: contract.name, field: endless },
      );
    }
    let resolver: avro.Resolver | undefined;
    if (!contract.type.equals(writer)) {
      const costly = costlyReadPath(writer);
      if (costly !== null) {
        throw new CroupierError(
          'CROUPIER_ERR_SERDE_INCOMPATIBLE',
          `schema id ${id} (${contract.fullName}) makes one value cost more to read than its bytes allow (${costly}): its named types expand into more fields than a record could hold, and reading a record of a few bytes would not end. Write it with a schema whose values take bytes for what they hold`,
          { schemaId: id, schemaName: contract.name, field: costly },
        );
      }
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
    return { contract, resolver };
  }

  /**
   * Asks the registry for every schema id this cache registered and registers again the subjects whose id it no
   * longer has (the subject was deleted with `?permanent=true`): a writer that kept using such an id would write
   * records no reader that has not seen the id before can resolve. Resolves to the subjects registered again,
   * with their new ids; the old ids still decode here.
   */
  async recheckRegistered(): Promise<RegisteredSubject[]> {
    const byId = new Map<number, { topic: string; schemaName: SchemaName }[]>();
    for (const [topic, forTopic] of this.ids) {
      for (const [schemaName, id] of forTopic) {
        const uses = byId.get(id) ?? [];
        uses.push({ topic, schemaName });
        byId.set(id, uses);
      }
    }
    const gone: { topic: string; schemaName: SchemaName; id: number }[] = [];
    for (const [id, uses] of byId) {
      if (await this.isRegistered(id)) continue;
      for (const use of uses) gone.push({ ...use, id });
    }
    if (gone.length === 0) return [];
    // The client caches registrations per subject: without this, registering again answers the lost id.
    this.client.clearCaches();
    const registered: RegisteredSubject[] = [];
    for (const { topic, schemaName, id: lost } of gone) {
      this.ids.get(topic)?.delete(schemaName);
      const id = await this.register(topic, schemaName);
      const subject = this.subjectFor(topic, schemaName);
      this.logger.warn(
        { subject, lostId: lost, id },
        'the schema registry no longer has the schema id this writer used (the subject was deleted permanently); registered it again',
      );
      registered.push({ topic, schemaName, subject, id });
    }
    return registered;
  }

  /** Whether the registry still resolves `id` (asked over HTTP: the client's cache would answer yes). */
  private async isRegistered(id: number): Promise<boolean> {
    let response: Response;
    try {
      response = await fetch(`${this.registryUrl.replace(/\/+$/, '')}/schemas/ids/${id}`, {
        headers: this.authHeaders,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw registryFailure(error, `check schema id ${id}`);
    }
    await response.body?.cancel();
    if (response.status === 404) return false;
    if (!response.ok) throw registryFailure(new Error(`HTTP ${response.status}`), `check schema id ${id}`);
    return true;
  }

  private missingSchema(id: number): CroupierError {
    return new CroupierError(
      'CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA',
      `schema id ${id} is not in the schema registry at ${this.registryUrl}: the record was written against another registry, or its schema was deleted`,
      { schemaId: id, missing: true },
    );
  }

  async registerAll(topics: TopicNames): Promise<RegisteredSubject[]> {
    const registered: RegisteredSubject[] = [];
    for (const { topic, schemaNames } of topicContracts(topics)) {
      for (const schemaName of schemaNames) {
        const id = await this.register(topic, schemaName);
        registered.push({ topic, schemaName, subject: this.subjectFor(topic, schemaName), id });
      }
    }
    return registered;
  }
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
