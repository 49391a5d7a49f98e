/**
 * The embedded schema registry: an HTTP server speaking the part of the Confluent Schema Registry REST API
 * that `@confluentinc/schemaregistry` and Kafka serializers use, so the same client code runs against it and
 * against a real Confluent registry. Single node; state in memory, persisted to a directory when given.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CroupierError } from '../errors/index.ts';
import { type Logger, silentLogger } from '../log/logger.ts';
import { RegistryHttpError } from './http-error.ts';
import { loadState, type RegistryState, StateWriter } from './persistence.ts';
import { matchRoute } from './routes.ts';
import { DEFAULT_REGISTRY_LIMITS, type RegistryLimits, RegistryStore } from './store.ts';

export interface SchemaRegistryOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Directory the schemas persist in; empty or absent keeps them in memory only. */
  dataDir?: string;
  logger?: Logger;
  /** Largest request body accepted, in bytes (default 8 MiB). */
  maxBodyBytes?: number;
  /** Longest schema, and most schema text in all, the registry takes (default 1 Mi and 64 Mi characters). */
  limits?: RegistryLimits;
}

export interface SchemaRegistryHandle {
  /** Base URL for clients, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Stops accepting requests, waits for pending writes to the data directory, and closes. */
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** Starts the embedded schema registry and resolves once it is listening. */
export async function startSchemaRegistry(
  options: SchemaRegistryOptions = {},
): Promise<SchemaRegistryHandle> {
  const host = options.host ?? '127.0.0.1';
  const logger = (options.logger ?? silentLogger()).child({ component: 'schema-registry' });
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const writer = options.dataDir ? new StateWriter(options.dataDir) : null;

  let initial: RegistryState | null = null;
  if (options.dataDir && writer) {
    await writer.init();
    initial = await loadState(options.dataDir);
  }
  let pendingWrite: Promise<void> | null = null;
  const takePendingWrite = (): Promise<void> | null => {
    const write = pendingWrite;
    pendingWrite = null;
    return write;
  };
  const store = restoreStore(initial, options.dataDir, options.limits ?? DEFAULT_REGISTRY_LIMITS, (state) => {
    pendingWrite = writer ? writer.save(state) : null;
  });

  const server = createServer((request, response) => {
    readBody(request, maxBodyBytes)
      .then(async (body) => {
        takePendingWrite();
        const result = dispatch(store, request, body);
        // A change is acknowledged only once it is on disk.
        const write = takePendingWrite();
        if (write) await write;
        send(response, 200, result);
      })
      .catch((error: unknown) => {
        const failure = asHttpError(error);
        if (failure.status >= 500)
          logger.error({ err: error, url: request.url }, 'schema registry request failed');
        else
          logger.debug(
            { url: request.url, status: failure.status, message: failure.message },
            'request refused',
          );
        send(response, failure.status, failure.toBody());
      });
  });
  server.keepAliveTimeout = 5_000;

  await listen(server, host, options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${port}`;
  logger.info({ url, dataDir: options.dataDir || null }, 'schema registry listening');

  return {
    url,
    host,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await writer?.flushed();
      logger.info({ url }, 'schema registry closed');
    },
  };
}

function restoreStore(
  initial: RegistryState | null,
  dataDir: string | undefined,
  limits: RegistryLimits,
  onChange: (state: RegistryState) => void,
): RegistryStore {
  try {
    return new RegistryStore(onChange, initial, limits);
  } catch (error) {
    throw new CroupierError(
      'CROUPIER_ERR_REGISTRY_DATA',
      `the schema registry state in ${dataDir} holds a schema that does not parse: ${(error as Error).message}`,
      { dataDir },
      { cause: error },
    );
  }
}

function dispatch(store: RegistryStore, request: IncomingMessage, body: string): unknown {
  const parsed = new URL(request.url ?? '/', 'http://registry');
  const segments = parsed.pathname
    .split('/')
    .filter(Boolean)
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        throw new RegistryHttpError(
          'BAD_REQUEST',
          `Malformed percent-encoding in the path segment '${segment}'`,
        );
      }
    });
  const method = request.method ?? 'GET';
  const match = matchRoute(method, segments);
  if (match.kind === 'none') {
    throw new RegistryHttpError('ROUTE_NOT_FOUND', `No such endpoint: ${method} ${parsed.pathname}`);
  }
  if (match.kind === 'wrong-method') {
    throw new RegistryHttpError(
      'METHOD_NOT_ALLOWED',
      `${method} is not allowed on ${parsed.pathname}; use ${match.allowed.join(' or ')}`,
    );
  }
  return match.route.handle(store, {
    params: match.params,
    query: parsed.searchParams,
    body: () => parseJsonBody(body),
  });
}

function parseJsonBody(body: string): unknown {
  if (body.trim() === '') throw new RegistryHttpError('BAD_REQUEST', 'The request needs a JSON body');
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new RegistryHttpError(
      'BAD_REQUEST',
      `Malformed JSON in the request body: ${(error as Error).message}`,
    );
  }
}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => {
      if (tooLarge) {
        reject(new RegistryHttpError('PAYLOAD_TOO_LARGE', `The request body exceeds ${limit} bytes`));
      } else {
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    });
    request.on('error', reject);
    // A client that goes away mid-body never sends 'end'; settle so nothing waits on it.
    request.on('close', () => {
      if (!request.complete)
        reject(new RegistryHttpError('BAD_REQUEST', 'The client closed the request early'));
    });
  });
}

function asHttpError(error: unknown): RegistryHttpError {
  if (error instanceof RegistryHttpError) return error;
  return new RegistryHttpError(
    'INTERNAL',
    `Internal error of the schema registry: ${(error as Error)?.message}`,
  );
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function listen(server: ReturnType<typeof createServer>, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new CroupierError(
          'CROUPIER_ERR_PORT_UNAVAILABLE',
          `the schema registry cannot listen on ${host}:${port} (${error.code ?? error.message}); pick another port or stop what holds it`,
          { host, port },
          { cause: error },
        ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
