/**
 * The broker's shared vocabulary: its configuration, what a handler learns about the request it answers,
 * the partition limits, and `BrokerState`, the view of the broker that request handlers and storage recovery
 * work on. It sits below broker.ts, handlers/ and storage/ so each of them can import it without importing
 * the class that wires them together.
 */
import type { Logger } from 'pino';
import type { GroupCoordinator } from './group/coordinator.ts';
import type { Partition } from './log/partition.ts';
import type { Topic, TopicDefaults } from './log/topics.ts';
import type { TxnCoordinator } from './txn/coordinator.ts';

export interface BrokerConfig {
  nodeId: number;
  /** Host and port written into Metadata and FindCoordinator answers. */
  advertisedHost: string;
  advertisedPort: number;
  clusterId: string;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  topicDefaults: TopicDefaults;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupInitialRebalanceDelayMs: number;
  transactionMaxTimeoutMs: number;
  /** Committed offsets of a group without members are kept this long (-1: for ever). */
  offsetsRetentionMs: number;
  /** Retention check interval. */
  retentionCheckMs: number;
  /** Compression codecs (attribute values) a produced batch may use. */
  acceptedCompressions: ReadonlySet<number>;
}

export interface RequestContext {
  apiVersion: number;
  clientId: string;
  clientHost: string;
  /** Registers a callback for when the connection closes (cancels long polls); returns its removal. */
  onClose(callback: () => void): () => void;
}

/** Limits of this single-node broker (CreateTopics answers POLICY_VIOLATION beyond them). */
export const MAX_PARTITIONS_PER_TOPIC = 10_000;
export const MAX_PARTITIONS = 200_000;

/** The broker's state as its request handlers and storage recovery see it (the Broker class is one). */
export interface BrokerState {
  readonly config: BrokerConfig;
  readonly topics: ReadonlyMap<string, Topic>;
  readonly groups: GroupCoordinator;
  readonly txns: TxnCoordinator;
  readonly logger: Logger;
  createTopic(name: string, partitions: number, configs?: Map<string, string>): Topic;
  /** Registers a topic (recovering its partitions from storage) without persisting it again. */
  restoreTopic(name: string, partitions: number, configs: Map<string, string>): Topic;
  /** The topic, auto-created when allowed and the name is valid. */
  topicForWrite(name: string, allowCreate: boolean): Topic | undefined;
  deleteTopic(name: string): boolean;
  partitionCount(): number;
  partition(topic: string, index: number): Partition | undefined;
}
