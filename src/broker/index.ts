/**
 * croupier's embedded single-node broker: speaks the Kafka wire protocol on loopback so kafkajs (and
 * librdkafka) run unchanged against it. `startBroker()` starts it in-process and learns its port.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { CroupierError } from '../errors/index.ts';
import { silentLogger } from '../log/logger.ts';
import { Broker } from './broker.ts';
import type { BrokerConfig } from './broker-state.ts';
import { FrameBudget } from './network/frame-budget.ts';
import { BrokerServer } from './network/server.ts';
import { COMPRESSION_CODECS, type CompressionCodec } from './protocol/record-batch.ts';
import { DiskStorage } from './storage/disk-storage.ts';
import type { BrokerStorage } from './storage/storage.ts';

export { Broker } from './broker.ts';
export type { BrokerConfig } from './broker-state.ts';
export { ADVERTISED, ApiKey } from './protocol/api-keys.ts';
export { ErrorCode } from './protocol/error-codes.ts';

export interface StartBrokerOptions {
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port to bind (default 0: a free port). */
  port?: number;
  /** Append-only segment files here; in memory when absent. */
  dataDir?: string;
  /** Partitions of auto-created topics and of CreateTopics with -1 (default 1). */
  defaultPartitions?: number;
  /** Create unknown topics on Metadata/Produce (default true). */
  autoCreateTopics?: boolean;
  logger?: Logger;
  /** Host written into Metadata (default: host, or 127.0.0.1 when binding all interfaces). */
  advertisedHost?: string;
  /** Largest request frame accepted (default 100 MiB, Kafka's socket.request.max.bytes). */
  maxFrameBytes?: number;
  /**
   * Bytes the request frames being received may hold, all connections together (default 256 MiB, and never
   * under maxFrameBytes); past it the connection holding the most is closed.
   */
  maxBufferedFrameBytes?: number;
  /** Largest record batch (default 1048588, Kafka's message.max.bytes). */
  maxMessageBytes?: number;
  /** Log retention (default: unlimited size, 7 days). */
  retentionBytes?: number;
  retentionMs?: number;
  /** Segment file size (data-dir mode, default 64 MiB). */
  segmentBytes?: number;
  /** fsync policy in data-dir mode (default 'never': the OS page cache; see README). */
  fsync?: 'never' | 'always';
  /** Group session timeout bounds (default 6 s .. 30 min, as Kafka). */
  groupMinSessionTimeoutMs?: number;
  groupMaxSessionTimeoutMs?: number;
  /** Delay of an empty group's first rebalance (default 0; Kafka's default is 3000). */
  groupInitialRebalanceDelayMs?: number;
  /** Committed offsets of a group without members are kept this long after their commit and its last member (Kafka's offsets.retention.minutes; default 7 days, -1 for ever). */
  offsetsRetentionMs?: number;
  /** Largest transaction timeout (default 15 min, as Kafka). */
  transactionMaxTimeoutMs?: number;
  /**
   * Compression codecs a produced batch may use (default all five, as Kafka: none, gzip, snappy, lz4, zstd).
   * A compressed batch is decompressed to validate its records and stored as the producer compressed it;
   * a codec left out is refused with UNSUPPORTED_COMPRESSION_TYPE.
   */
  compressionCodecs?: readonly CompressionCodec[];
}

export interface BrokerHandle {
  readonly host: string;
  readonly port: number;
  /** `host:port`, for a client's bootstrap list. */
  readonly address: string;
  readonly broker: Broker;
  close(): Promise<void>;
}

const NODE_ID = 1;

export async function startBroker(options: StartBrokerOptions = {}): Promise<BrokerHandle> {
  const logger = options.logger ?? silentLogger();
  const host = options.host ?? '127.0.0.1';
  const storage: BrokerStorage | null = options.dataDir
    ? new DiskStorage(options.dataDir, { fsync: options.fsync ?? 'never', logger })
    : null;
  const clusterId = storage?.clusterId() ?? randomBytes(16).toString('base64url').slice(0, 22);
  const config: BrokerConfig = {
    nodeId: NODE_ID,
    advertisedHost: options.advertisedHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host),
    advertisedPort: 0,
    clusterId,
    autoCreateTopics: options.autoCreateTopics ?? true,
    defaultPartitions: options.defaultPartitions ?? 1,
    topicDefaults: {
      retentionBytes: options.retentionBytes ?? -1,
      retentionMs: options.retentionMs ?? 7 * 24 * 3600 * 1000,
      maxMessageBytes: options.maxMessageBytes ?? 1048588,
      segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024,
    },
    groupMinSessionTimeoutMs: options.groupMinSessionTimeoutMs ?? 6000,
    groupMaxSessionTimeoutMs: options.groupMaxSessionTimeoutMs ?? 1_800_000,
    groupInitialRebalanceDelayMs: options.groupInitialRebalanceDelayMs ?? 0,
    transactionMaxTimeoutMs: options.transactionMaxTimeoutMs ?? 900_000,
    offsetsRetentionMs: options.offsetsRetentionMs ?? 7 * 24 * 3600 * 1000,
    retentionCheckMs: 30_000,
    acceptedCompressions: new Set(
      (options.compressionCodecs ?? COMPRESSION_CODECS).map((c) => COMPRESSION_CODECS.indexOf(c)),
    ),
  };
  const broker = new Broker(config, logger, storage);
  broker.recover();
  const maxFrameBytes = options.maxFrameBytes ?? 100 * 1024 * 1024;
  const server = new BrokerServer(broker, logger, {
    maxFrameBytes,
    frameBudget: new FrameBudget(Math.max(options.maxBufferedFrameBytes ?? 256 * 1024 * 1024, maxFrameBytes)),
    maxPendingWriteBytes: 64 * 1024 * 1024,
  });
  let bound: { host: string; port: number };
  try {
    bound = await server.listen(options.port ?? 0, host);
  } catch (error) {
    broker.close();
    throw new CroupierError(
      'CROUPIER_ERR_BROKER_LISTEN',
      `the broker could not listen on ${host}:${options.port ?? 0}: ${(error as Error).message}`,
      { host, port: options.port ?? 0 },
      { cause: error },
    );
  }
  config.advertisedPort = bound.port;
  logger.info({ host: bound.host, port: bound.port, dataDir: options.dataDir ?? null }, 'broker listening');
  let closing: Promise<void> | null = null;
  return {
    host: config.advertisedHost,
    port: bound.port,
    address: `${config.advertisedHost}:${bound.port}`,
    broker,
    close() {
      closing ??= (async () => {
        await server.close();
        broker.close();
        logger.info('broker stopped');
      })();
      return closing;
    },
  };
}
