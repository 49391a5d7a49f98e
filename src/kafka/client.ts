/**
 * The kafkajs client of croupier, built from the validated `kafka` config section, with kafkajs' own logging
 * routed into pino (one child logger per kafkajs namespace, levels mapped both ways), the snappy, lz4 and
 * zstd codecs registered (compression-codecs.ts) and fetched batches of any record count read
 * (fetch-decoding.ts).
 */
import { Kafka, type KafkaConfig, type LogEntry, logLevel, type SASLOptions } from 'kafkajs';
import type { Config } from '../config/index.ts';
import { CroupierError } from '../errors/index.ts';
import { type Logger, silentLogger } from '../log/logger.ts';
import { registerCompressionCodecs } from './compression-codecs.ts';
import { replaceFetchRecordGathering } from './fetch-decoding.ts';

export type KafkaSettings = Config['kafka'];

export interface CreateKafkaOptions {
  logger?: Logger;
  /** Passed through to kafkajs (ms). */
  connectionTimeout?: number;
  requestTimeout?: number;
  retry?: KafkaConfig['retry'];
}

/**
 * A kafkajs `Kafka` for `brokers` (default: the config's brokers), with the config's client id, TLS and SASL,
 * whose consumers read batches compressed with any codec Kafka has.
 * Pass the embedded broker's address as `brokers` when the config names none.
 */
export function createKafka(
  settings: KafkaSettings,
  brokers: readonly string[] = settings.brokers,
  options: CreateKafkaOptions = {},
): Kafka {
  if (brokers.length === 0) {
    throw new CroupierError(
      'CROUPIER_ERR_CONFIG_INVALID',
      'kafka.brokers is empty: set KAFKA_BROKERS (host:port, comma separated) or start the embedded broker and pass its address',
      { key: 'kafka.brokers' },
    );
  }
  const logger = options.logger ?? silentLogger();
  registerCompressionCodecs();
  replaceFetchRecordGathering();
  return new Kafka({
    brokers: [...brokers],
    clientId: settings.clientId,
    ssl: settings.ssl,
    ...(settings.sasl ? { sasl: saslOptions(settings.sasl) } : {}),
    ...(options.connectionTimeout !== undefined ? { connectionTimeout: options.connectionTimeout } : {}),
    ...(options.requestTimeout !== undefined ? { requestTimeout: options.requestTimeout } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    logLevel: kafkaLogLevel(logger.level),
    logCreator: pinoLogCreator(logger),
  });
}

function saslOptions(sasl: NonNullable<KafkaSettings['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

/** The kafkajs level that lets through what the pino level would print. */
export function kafkaLogLevel(pinoLevel: string): logLevel {
  switch (pinoLevel) {
    case 'silent':
      return logLevel.NOTHING;
    case 'fatal':
    case 'error':
      return logLevel.ERROR;
    case 'warn':
      return logLevel.WARN;
    case 'info':
      return logLevel.INFO;
    default:
      return logLevel.DEBUG;
  }
}

/** A kafkajs `logCreator` writing each entry to a pino child logger `{ component: 'kafka', namespace }`. */
export function pinoLogCreator(logger: Logger): NonNullable<KafkaConfig['logCreator']> {
  const base = logger.child({ component: 'kafka' });
  const children = new Map<string, Logger>();
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      let child = children.get(namespace);
      if (!child) {
        child = base.child({ namespace });
        children.set(namespace, child);
      }
      const { message, timestamp: _timestamp, ...extra } = log;
      switch (level) {
        case logLevel.ERROR:
          child.error(extra, message);
          break;
        case logLevel.WARN:
          child.warn(extra, message);
          break;
        case logLevel.INFO:
          child.info(extra, message);
          break;
        case logLevel.DEBUG:
          child.debug(extra, message);
          break;
        default:
          break;
      }
    };
}
