/** The embedded Confluent-compatible schema registry. */
export {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  DEFAULT_COMPATIBILITY,
  isCompatibilityLevel,
} from './compatibility.ts';
export { connectSchemaRegistry, type SchemaRegistryConnection } from './from-config.ts';
export { REGISTRY_HTTP_ERRORS, RegistryHttpError } from './http-error.ts';
export { startSchemaRegistryThread } from './registry-thread.ts';
export { type SchemaRegistryHandle, type SchemaRegistryOptions, startSchemaRegistry } from './server.ts';
