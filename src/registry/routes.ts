/**
 * The Confluent Schema Registry REST routes the embedded registry serves, each a thin translation between
 * HTTP (path, query, JSON body) and a `RegistryStore` operation. Handlers return the response body (200) or
 * throw a `RegistryHttpError`.
 */
import { isCompatibilityLevel } from './compatibility.ts';
import { RegistryHttpError } from './http-error.ts';
import { parseVersion, type RegistryStore } from './store.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteRequest {
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** The parsed JSON body; throws a 400 when it is missing or malformed. */
  body(): unknown;
}

export interface Route {
  method: Method;
  /** Path segments; `:name` captures one segment (URL-decoded). */
  path: readonly string[];
  handle(store: RegistryStore, request: RouteRequest): unknown;
}

const flag = (query: URLSearchParams, name: string): boolean => query.get(name) === 'true';

function schemaId(text: string): number {
  const id = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new RegistryHttpError(
      'SCHEMA_NOT_FOUND',
      `Schema ${text} not found: schema ids are positive integers`,
    );
  }
  return id;
}

/** The `schema` text of a register/lookup/compatibility body (Avro only; no references). */
function schemaText(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RegistryHttpError('INVALID_SCHEMA', 'Invalid schema: the request body must be a JSON object');
  }
  const { schema, schemaType, references } = body as Record<string, unknown>;
  if (typeof schema !== 'string') {
    throw new RegistryHttpError(
      'INVALID_SCHEMA',
      'Invalid schema: the request body needs a "schema" field holding the schema as a JSON string',
    );
  }
  if (schemaType !== undefined && schemaType !== null && schemaType !== 'AVRO') {
    throw new RegistryHttpError(
      'INVALID_SCHEMA',
      `Invalid schema: schemaType ${JSON.stringify(schemaType)} is not supported; this registry stores AVRO schemas`,
    );
  }
  if (Array.isArray(references) && references.length > 0) {
    throw new RegistryHttpError(
      'INVALID_SCHEMA',
      'Invalid schema: schema references are not supported; inline the referenced types',
    );
  }
  return schema;
}

function compatibilityUpdate(body: unknown): ReturnType<RegistryStore['levelOf']> {
  const level =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>).compatibility : undefined;
  if (!isCompatibilityLevel(level)) {
    throw new RegistryHttpError(
      'INVALID_COMPATIBILITY_LEVEL',
      `Invalid compatibility level ${JSON.stringify(level ?? null)}. Valid values are NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE`,
    );
  }
  return level;
}

function compatibilityResult(problems: string[], verbose: boolean): Record<string, unknown> {
  return verbose
    ? { is_compatible: problems.length === 0, messages: problems }
    : { is_compatible: problems.length === 0 };
}

function route(method: Method, path: string, handle: Route['handle']): Route {
  return { method, path: path.split('/').filter(Boolean), handle };
}

export const ROUTES: readonly Route[] = [
  route('GET', '/', () => ({})),
  route('GET', '/schemas/types', () => ['AVRO']),
  route('GET', '/contexts', () => ['.']),
  route('GET', '/mode', () => ({ mode: 'READWRITE' })),
  route('GET', '/mode/:subject', () => ({ mode: 'READWRITE' })),
  // Topic-to-subject associations: none are kept, so clients fall back to their naming strategy.
  route('GET', '/associations/resources/:namespace/:name', () => []),

  route('GET', '/schemas/ids/:id', (store, { params }) => ({
    schema: store.schemaById(schemaId(params.id)).schema,
  })),
  route('GET', '/schemas/ids/:id/schema', (store, { params }) =>
    JSON.parse(store.schemaById(schemaId(params.id)).schema),
  ),
  route('GET', '/schemas/ids/:id/versions', (store, { params, query }) =>
    store.usesOf(schemaId(params.id), flag(query, 'deleted')),
  ),
  route('GET', '/schemas/ids/:id/subjects', (store, { params, query }) => [
    ...new Set(store.usesOf(schemaId(params.id), flag(query, 'deleted')).map((u) => u.subject)),
  ]),

  route('GET', '/subjects', (store, { query }) => store.subjectNames(flag(query, 'deleted'))),
  route('POST', '/subjects/:subject', (store, { params, query, body }) =>
    store.lookup(params.subject, schemaText(body()), flag(query, 'deleted')),
  ),
  route('DELETE', '/subjects/:subject', (store, { params, query }) =>
    store.deleteSubject(params.subject, flag(query, 'permanent')),
  ),
  route('GET', '/subjects/:subject/versions', (store, { params, query }) =>
    store.versionNumbers(params.subject, flag(query, 'deleted')),
  ),
  route('POST', '/subjects/:subject/versions', (store, { params, body }) => {
    const registered = store.register(params.subject, schemaText(body()));
    return {
      id: registered.id,
      subject: registered.subject,
      version: registered.version,
      schema: registered.schema,
    };
  }),
  route('GET', '/subjects/:subject/versions/:version', (store, { params, query }) =>
    store.getVersion(params.subject, parseVersion(params.version), flag(query, 'deleted')),
  ),
  route('GET', '/subjects/:subject/versions/:version/schema', (store, { params }) =>
    JSON.parse(store.getVersion(params.subject, parseVersion(params.version)).schema),
  ),
  route('GET', '/subjects/:subject/versions/:version/referencedby', (store, { params }) => {
    store.getVersion(params.subject, parseVersion(params.version));
    return [];
  }),
  route('DELETE', '/subjects/:subject/versions/:version', (store, { params, query }) =>
    store.deleteVersion(params.subject, parseVersion(params.version), flag(query, 'permanent')),
  ),

  route('POST', '/compatibility/subjects/:subject/versions/:version', (store, { params, query, body }) =>
    compatibilityResult(
      store.checkCompatibility(params.subject, parseVersion(params.version), schemaText(body())),
      flag(query, 'verbose'),
    ),
  ),
  route('POST', '/compatibility/subjects/:subject/versions', (store, { params, query, body }) =>
    compatibilityResult(
      store.checkCompatibility(params.subject, 'all', schemaText(body())),
      flag(query, 'verbose'),
    ),
  ),

  route('GET', '/config', (store) => ({ compatibilityLevel: store.compatibility })),
  route('PUT', '/config', (store, { body }) => {
    const level = compatibilityUpdate(body());
    store.setCompatibility(level);
    return { compatibility: level };
  }),
  route('GET', '/config/:subject', (store, { params, query }) => {
    const own = store.subjectCompatibility(params.subject);
    if (own) return { compatibilityLevel: own };
    if (flag(query, 'defaultToGlobal')) return { compatibilityLevel: store.compatibility };
    throw new RegistryHttpError(
      'SUBJECT_CONFIG_NOT_FOUND',
      `Subject '${params.subject}' does not have subject-level compatibility configured`,
    );
  }),
  route('PUT', '/config/:subject', (store, { params, body }) => {
    const level = compatibilityUpdate(body());
    store.setSubjectCompatibility(params.subject, level);
    return { compatibility: level };
  }),
  route('DELETE', '/config/:subject', (store, { params }) => ({
    compatibilityLevel: store.clearSubjectCompatibility(params.subject),
  })),
];

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'wrong-method'; allowed: Method[] }
  | { kind: 'none' };

/** Finds the route for a method and already-decoded path segments. */
export function matchRoute(method: string, segments: readonly string[]): RouteMatch {
  const allowed: Method[] = [];
  for (const candidate of ROUTES) {
    const params = matchPath(candidate.path, segments);
    if (!params) continue;
    if (candidate.method === method) return { kind: 'found', route: candidate, params };
    allowed.push(candidate.method);
  }
  return allowed.length > 0 ? { kind: 'wrong-method', allowed } : { kind: 'none' };
}

function matchPath(pattern: readonly string[], segments: readonly string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const part = pattern[i]!;
    if (part.startsWith(':')) params[part.slice(1)] = segments[i]!;
    else if (part !== segments[i]) return null;
  }
  return params;
}
