/** Environment variables that set configuration keys. Every production knob has one. */
export type EnvKind = 'string' | 'number' | 'boolean' | 'list';

export interface EnvBinding {
  readonly env: string;
  readonly path: string;
  readonly kind: EnvKind;
}

export const ENV_BINDINGS: readonly EnvBinding[] = [
  { env: 'KAFKA_BROKERS', path: 'kafka.brokers', kind: 'list' },
  { env: 'KAFKA_CLIENT_ID', path: 'kafka.clientId', kind: 'string' },
  { env: 'KAFKA_SSL', path: 'kafka.ssl', kind: 'boolean' },
  { env: 'KAFKA_SASL_MECHANISM', path: 'kafka.sasl.mechanism', kind: 'string' },
  { env: 'KAFKA_SASL_USERNAME', path: 'kafka.sasl.username', kind: 'string' },
  { env: 'KAFKA_SASL_PASSWORD', path: 'kafka.sasl.password', kind: 'string' },
  { env: 'KAFKA_PARTITIONS', path: 'kafka.partitions', kind: 'number' },
  { env: 'BROKER_PORT', path: 'broker.port', kind: 'number' },
  { env: 'BROKER_DATA_DIR', path: 'broker.dataDir', kind: 'string' },
  { env: 'SCHEMA_REGISTRY_URL', path: 'schemaRegistry.url', kind: 'string' },
  { env: 'SCHEMA_REGISTRY_USERNAME', path: 'schemaRegistry.username', kind: 'string' },
  { env: 'SCHEMA_REGISTRY_PASSWORD', path: 'schemaRegistry.password', kind: 'string' },
  { env: 'SCHEMA_REGISTRY_DATA_DIR', path: 'schemaRegistry.embedded.dataDir', kind: 'string' },
  { env: 'REDIS_URL', path: 'redis.url', kind: 'string' },
  { env: 'REDIS_CLUSTER_NODES', path: 'redis.clusterNodes', kind: 'list' },
  { env: 'REDIS_KEY_PREFIX', path: 'redis.keyPrefix', kind: 'string' },
  { env: 'ARCHIVE_URI', path: 'archive.uri', kind: 'string' },
  { env: 'HDFS_USER', path: 'archive.hdfsUser', kind: 'string' },
  { env: 'MODEL_REGISTRY_DIR', path: 'model.registryDir', kind: 'string' },
  { env: 'MODEL_EXECUTION_PROVIDERS', path: 'model.executionProviders', kind: 'list' },
  { env: 'GATEWAY_HOST', path: 'gateway.host', kind: 'string' },
  { env: 'GATEWAY_PORT', path: 'gateway.port', kind: 'number' },
  { env: 'GATEWAY_AUTH_SECRET', path: 'gateway.authSecret', kind: 'string' },
  { env: 'GATEWAY_AUTH_DISABLED', path: 'gateway.authDisabled', kind: 'boolean' },
  { env: 'GATEWAY_ADMIN_TOKEN', path: 'gateway.adminToken', kind: 'string' },
  { env: 'GATEWAY_POLICY', path: 'gateway.policy', kind: 'string' },
  { env: 'STREAM_GROUP_ID', path: 'stream.groupId', kind: 'string' },
  { env: 'LOG_LEVEL', path: 'log.level', kind: 'string' },
  { env: 'LOG_PRETTY', path: 'log.pretty', kind: 'boolean' },
];
