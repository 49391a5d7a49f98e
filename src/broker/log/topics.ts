/** The broker's topics: names, partitions and per-topic configuration. */
import { Partition, type RetentionPolicy } from './partition.ts';

/** Kafka's topic-level configuration names (CreateTopics rejects others with INVALID_CONFIG). */
export const TOPIC_CONFIG_NAMES = new Set([
  'cleanup.policy',
  'compression.type',
  'delete.retention.ms',
  'file.delete.delay.ms',
  'flush.messages',
  'flush.ms',
  'follower.replication.throttled.replicas',
  'index.interval.bytes',
  'leader.replication.throttled.replicas',
  'local.retention.bytes',
  'local.retention.ms',
  'max.compaction.lag.ms',
  'max.message.bytes',
  'message.downconversion.enable',
  'message.format.version',
  'message.timestamp.after.max.ms',
  'message.timestamp.before.max.ms',
  'message.timestamp.difference.max.ms',
  'message.timestamp.type',
  'min.cleanable.dirty.ratio',
  'min.compaction.lag.ms',
  'min.insync.replicas',
  'preallocate',
  'remote.storage.enable',
  'retention.bytes',
  'retention.ms',
  'segment.bytes',
  'segment.index.bytes',
  'segment.jitter.ms',
  'segment.ms',
  'unclean.leader.election.enable',
]);

export interface TopicDefaults {
  retentionBytes: number;
  retentionMs: number;
  maxMessageBytes: number;
  segmentBytes: number;
}

export class Topic {
  readonly name: string;
  readonly partitions: Partition[];
  readonly configs: Map<string, string>;
  retention: RetentionPolicy;
  maxMessageBytes: number;
  segmentBytes: number;

  constructor(name: string, partitions: number, configs: Map<string, string>, defaults: TopicDefaults) {
    this.name = name;
    this.configs = configs;
    this.partitions = [];
    for (let i = 0; i < partitions; i++) this.partitions.push(new Partition(name, i));
    const num = (key: string, fallback: number) => {
      const v = configs.get(key);
      const n = v === undefined ? Number.NaN : Number(v);
      return Number.isFinite(n) ? n : fallback;
    };
    this.retention = {
      retentionBytes: num('retention.bytes', defaults.retentionBytes),
      retentionMs: num('retention.ms', defaults.retentionMs),
    };
    this.maxMessageBytes = num('max.message.bytes', defaults.maxMessageBytes);
    this.segmentBytes = num('segment.bytes', defaults.segmentBytes);
  }

  partition(index: number): Partition | undefined {
    return index >= 0 ? this.partitions[index] : undefined;
  }
}

const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Kafka's topic name rules; returns why a name is invalid, or undefined. */
export function invalidTopicName(name: string): string | undefined {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return 'topic name cannot be "." or ".."';
  if (name.length > 249) return 'topic name is longer than 249 characters';
  if (!LEGAL.test(name)) return 'topic name may contain only ASCII letters, digits, ".", "_" and "-"';
  return undefined;
}
