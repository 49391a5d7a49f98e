/**
 * Environment variables that set configuration keys: every key has one. The well-known production names
 * (KAFKA_BROKERS, REDIS_URL, SCHEMA_REGISTRY_URL, ...) are listed by hand; every other key gets its path in
 * upper snake case (`gateway.maxConnections` → `GATEWAY_MAX_CONNECTIONS`), derived from the schema.
 */
import { z } from 'zod';

export type EnvKind = 'string' | 'number' | 'boolean' | 'list' | 'number-list';

export interface EnvBinding {
  readonly env: string;
  readonly path: string;
  readonly kind: EnvKind;
}

const NAMED_BINDINGS: readonly EnvBinding[] = [
  { env: 'KAFKA_BROKERS', path: 'kafka.brokers', kind: 'list' },
  { env: 'KAFKA_SASL_MECHANISM', path: 'kafka.sasl.mechanism', kind: 'string' },
  { env: 'KAFKA_SASL_USERNAME', path: 'kafka.sasl.username', kind: 'string' },
  { env: 'KAFKA_SASL_PASSWORD', path: 'kafka.sasl.password', kind: 'string' },
  { env: 'BROKER_DATA_DIR', path: 'broker.dataDir', kind: 'string' },
  { env: 'SCHEMA_REGISTRY_URL', path: 'schemaRegistry.url', kind: 'string' },
  { env: 'SCHEMA_REGISTRY_DATA_DIR', path: 'schemaRegistry.embedded.dataDir', kind: 'string' },
  { env: 'REDIS_URL', path: 'redis.url', kind: 'string' },
  { env: 'REDIS_CLUSTER_NODES', path: 'redis.clusterNodes', kind: 'list' },
  { env: 'ARCHIVE_URI', path: 'archive.uri', kind: 'string' },
  { env: 'HDFS_USER', path: 'archive.hdfsUser', kind: 'string' },
  { env: 'HDFS_DELEGATION_TOKEN', path: 'archive.hdfsDelegationToken', kind: 'string' },
  { env: 'CDC_POSTGRES_URL', path: 'cdc.postgresUrl', kind: 'string' },
];

function unwrap(type: z.ZodTypeAny): z.ZodTypeAny {
  let inner = type;
  for (;;) {
    if (inner instanceof z.ZodDefault) inner = inner._def.innerType;
    else if (inner instanceof z.ZodOptional || inner instanceof z.ZodNullable) inner = inner.unwrap();
    else if (inner instanceof z.ZodEffects) inner = inner.innerType();
    else return inner;
  }
}

function kindOf(type: z.ZodTypeAny): EnvKind {
  const inner = unwrap(type);
  if (inner instanceof z.ZodNumber) return 'number';
  if (inner instanceof z.ZodBoolean) return 'boolean';
  if (inner instanceof z.ZodArray)
    return unwrap(inner.element) instanceof z.ZodNumber ? 'number-list' : 'list';
  return 'string';
}

function envName(path: string): string {
  return path
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('_');
}

/** Every leaf key of an object schema with its derived variable name. */
function deriveBindings(schema: z.ZodTypeAny, prefix: string, out: EnvBinding[]): void {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodTypeAny>)) {
      deriveBindings(child, prefix ? `${prefix}.${key}` : key, out);
    }
    return;
  }
  out.push({ env: envName(prefix), path: prefix, kind: kindOf(inner) });
}

/** The bindings of a config schema: the named ones, then one derived per remaining leaf key. */
export function envBindings(schema: z.ZodTypeAny): readonly EnvBinding[] {
  const derived: EnvBinding[] = [];
  deriveBindings(schema, '', derived);
  const named = new Set(NAMED_BINDINGS.map((b) => b.path));
  return [...NAMED_BINDINGS, ...derived.filter((b) => !named.has(b.path))];
}
