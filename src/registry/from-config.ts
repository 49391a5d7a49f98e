/**
 * The registry croupier talks to, from the `schemaRegistry` config section: the Confluent registry at
 * `schemaRegistry.url` when one is set, otherwise the embedded registry started here.
 */
import type { Config } from '../config/index.ts';
import { type Logger, silentLogger } from '../log/logger.ts';
import { type SchemaRegistryHandle, startSchemaRegistry } from './server.ts';

export interface SchemaRegistryConnection {
  /** Base URL for clients and the event codec. */
  readonly url: string;
  /** Basic auth for an external registry, when configured. */
  readonly auth: { username: string; password: string } | undefined;
  /** The embedded registry, when this connection started one. */
  readonly embedded: SchemaRegistryHandle | null;
  /** Stops the embedded registry, if any; an external one is left alone. */
  close(): Promise<void>;
}

export async function connectSchemaRegistry(
  settings: Config['schemaRegistry'],
  options: { logger?: Logger } = {},
): Promise<SchemaRegistryConnection> {
  if (settings.url) {
    const auth =
      settings.username !== undefined
        ? { username: settings.username, password: settings.password ?? '' }
        : undefined;
    return { url: settings.url.replace(/\/+$/, ''), auth, embedded: null, close: async () => undefined };
  }
  const embedded = await startSchemaRegistry({
    host: settings.embedded.host,
    port: settings.embedded.port,
    dataDir: settings.embedded.dataDir,
    limits: {
      maxSchemaChars: settings.embedded.maxSchemaChars,
      maxStoredChars: settings.embedded.maxStoredChars,
    },
    logger: options.logger ?? silentLogger(),
  });
  return { url: embedded.url, auth: undefined, embedded, close: () => embedded.close() };
}
