/**
 * A Kafka log that starts again under the archive's files (an embedded broker without `broker.dataDir`
 * restarted, the topic deleted and made again): the log ranges the sink judges it by (log-identity.ts), and what
 * the archive does with a new log: it archives it from its start under the next log epoch (layout.ts), beside
 * the old log's files, and says so loudly (an error in the log, CROUPIER_ERR_ARCHIVE_LOG_RESTARTED in the
 * failures counter).
 */
import type { Kafka } from 'kafkajs';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import type { ArchiveFileSystem } from './fs/archive-fs.ts';
import type { LogRange } from './log-identity.ts';
import type { ArchiveMetrics } from './metrics.ts';
import { progressKeyOf } from './progress.ts';
import { nextEpochOf, type RecoveredPartition } from './scan.ts';

export interface LogRangeReader {
  /** Each partition's log range of `topic` (one request for all of them), or null when it cannot be read. */
  ranges(topic: string): Promise<Map<number, LogRange> | null>;
  /** The Kafka cluster's id (Metadata v2+), or null when it cannot be read. */
  clusterId(): Promise<string | null>;
  close(): Promise<void>;
}

/** Reads log ranges with an admin client of its own, connected on first use. */
export function createLogRangeReader(kafka: Kafka, logger: Logger): LogRangeReader {
  const admin = kafka.admin();
  let connected: Promise<void> | null = null;
  return {
    async ranges(topic) {
      try {
        connected ??= admin.connect();
        await connected;
        const ranges = await admin.fetchTopicOffsets(topic);
        return new Map(ranges.map((r) => [r.partition, { low: Number(r.low), high: Number(r.high) }]));
      } catch (error) {
        connected = null;
        logger.debug({ err: error, topic }, 'could not read the log ranges; the log is not checked');
        return null;
      }
    },
    async clusterId() {
      try {
        connected ??= admin.connect();
        await connected;
        const { clusterId } = await admin.describeCluster();
        return typeof clusterId === 'string' && clusterId !== '' ? clusterId : null;
      } catch (error) {
        connected = null;
        logger.debug({ err: error }, 'could not read the Kafka cluster id');
        return null;
      }
    },
    close: () => admin.disconnect().catch(() => undefined),
  };
}

export interface NewLog {
  fs: ArchiveFileSystem;
  topic: string;
  partition: number;
  /** Where the archive stands in the epoch of the old log. */
  recovered: RecoveredPartition;
  range: LogRange;
  /** How the log was found new, for the report. */
  why: string;
  metrics: ArchiveMetrics;
  logger: Logger;
}

/** The partition's position in the next log epoch (nothing archived in it yet), reported. */
export async function startNewEpoch(newLog: NewLog): Promise<RecoveredPartition> {
  const { topic, partition, recovered, range } = newLog;
  const epoch = await nextEpochOf(newLog.fs, topic, partition, recovered.epoch);
  const key = progressKeyOf(topic, partition);
  const message =
    `archive partition ${key}: the Kafka log started again under the archive (an embedded broker without ` +
    `broker.dataDir restarted, or the topic was made again): ${newLog.why}. The new log is archived from its ` +
    `start (offset ${range.low}) as log epoch ${epoch}; the files of log epoch ${recovered.epoch} (offsets up to ` +
    `${recovered.end}) are kept beside it. Records the old log held beyond what was archived are gone with it; ` +
    'set broker.dataDir so the log outlives a restart';
  const details = {
    topic,
    partition,
    epoch,
    previousEpoch: recovered.epoch,
    archivedEnd: recovered.end,
    logStart: range.low,
    logEnd: range.high,
  };
  newLog.metrics.failed(new CroupierError('CROUPIER_ERR_ARCHIVE_LOG_RESTARTED', message, details));
  newLog.logger.error(details, message);
  return { epoch, end: -1, file: null, last: null, markerText: recovered.markerText, by: recovered.by };
}

/** Why a log whose range ends at or before the archived end is a new one. */
export const endedBefore = (recovered: RecoveredPartition, range: LogRange): string =>
  `the archive holds offsets up to ${recovered.end} of log epoch ${recovered.epoch} but the log ends at ${range.high} (starts at ${range.low})`;

/** Why a log that holds another record at the archived end is a new one. */
export const differsAt = (recovered: RecoveredPartition, range: LogRange): string =>
  `the log (offsets ${range.low} to ${range.high - 1}) holds another record at offset ${recovered.end} than the one log epoch ${recovered.epoch} archived there`;
