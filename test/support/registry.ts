/**
 * Test fixture: the embedded schema registry in-process on a free port. Each call starts a fresh, empty
 * registry (or one restored from `dataDir`), so suites never share subjects or ids.
 */
import {
  type SchemaRegistryHandle,
  type SchemaRegistryOptions,
  startSchemaRegistry,
} from '../../src/registry/index.ts';

export interface TestRegistry {
  url: string;
  handle: SchemaRegistryHandle;
  close(): Promise<void>;
}

export async function startTestRegistry(
  options: Omit<SchemaRegistryOptions, 'port'> = {},
): Promise<TestRegistry> {
  const handle = await startSchemaRegistry({ ...options, host: options.host ?? '127.0.0.1', port: 0 });
  return { url: handle.url, handle, close: () => handle.close() };
}
