/**
 * The broker: its topics and partitions (log module), the group coordinator and the transaction coordinator,
 * and the table from API key to request handler (handlers/, one file per API). The network layer decodes a
 * request with the version's codec, calls `handle`, and encodes what comes back; nothing here knows about
 * sockets, and no handler knows this class (they see the `BrokerState` it implements).
 */
import type { Logger } from 'pino';
import type { ApiVersionsResponse } from './apis/api-versions/types.ts';
import { type BrokerConfig, type BrokerState, MAX_PARTITIONS, type RequestContext } from './broker-state.ts';
import { GroupCoordinator } from './group/coordinator.ts';
import { handleAddOffsetsToTxn } from './handlers/add-offsets-to-txn.ts';
import { handleAddPartitionsToTxn } from './handlers/add-partitions-to-txn.ts';
import { handleApiVersions } from './handlers/api-versions.ts';
import { handleCreateTopics } from './handlers/create-topics.ts';
import { handleDeleteTopics } from './handlers/delete-topics.ts';
import { handleDescribeGroups } from './handlers/describe-groups.ts';
import { handleEndTxn } from './handlers/end-txn.ts';
import { FetchHandler } from './handlers/fetch.ts';
import { handleFindCoordinator } from './handlers/find-coordinator.ts';
import { handleHeartbeat } from './handlers/heartbeat.ts';
import { handleInitProducerId } from './handlers/init-producer-id.ts';
import { handleJoinGroup } from './handlers/join-group.ts';
import { handleLeaveGroup } from './handlers/leave-group.ts';
import { handleListGroups } from './handlers/list-groups.ts';
import { handleListOffsets } from './handlers/list-offsets.ts';
import { handleMetadata } from './handlers/metadata.ts';
import { handleOffsetCommit } from './handlers/offset-commit.ts';
import { handleOffsetFetch } from './handlers/offset-fetch.ts';
import { handleProduce } from './handlers/produce.ts';
import { handleSyncGroup } from './handlers/sync-group.ts';
import { handleTxnOffsetCommit } from './handlers/txn-offset-commit.ts';
import type { Partition } from './log/partition.ts';
import { invalidTopicName, Topic } from './log/topics.ts';
import { ApiKey } from './protocol/api-keys.ts';
import { ErrorCode } from './protocol/error-codes.ts';
import type { BrokerStorage } from './storage/storage.ts';
import { TxnCoordinator } from './txn/coordinator.ts';

// biome-ignore lint/suspicious/noExplicitAny: handlers are typed per API key below.
type Handler = (request: any, ctx: RequestContext) => unknown;

export class Broker implements BrokerState {
  readonly config: BrokerConfig;
  readonly topics = new Map<string, Topic>();
  readonly groups: GroupCoordinator;
  readonly txns: TxnCoordinator;
  readonly logger: Logger;
  readonly storage: BrokerStorage | null;
  private readonly fetcher: FetchHandler;
  private readonly handlers: Handler[] = [];
  private retentionTimer: NodeJS.Timeout | null = null;

  constructor(config: BrokerConfig, logger: Logger, storage: BrokerStorage | null = null) {
    this.config = config;
    this.logger = logger;
    this.storage = storage;
    this.groups = new GroupCoordinator({
      minSessionTimeoutMs: config.groupMinSessionTimeoutMs,
      maxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
      initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
      maxMetadataBytes: 4096,
      offsetsRetentionMs: config.offsetsRetentionMs,
      onCommit: storage ? (g, t, p, v) => storage.saveOffset(g, t, p, v) : undefined,
      log: (msg, fields) => logger.debug(fields ?? {}, msg),
    });
    this.txns = new TxnCoordinator({
      maxTimeoutMs: config.transactionMaxTimeoutMs,
      getPartition: (t, p) => this.topics.get(t)?.partition(p),
      commitOffset: (g, t, p, o, m) => {
        this.groups.commitOffset(g, t, p, o, m ?? '');
      },
      persist: storage ? (s) => storage.saveTxn(s) : undefined,
      persistProducerIdBlock: storage ? (n) => storage.saveNextProducerId(n) : undefined,
      log: (msg, fields) => logger.debug(fields ?? {}, msg),
    });
    this.fetcher = new FetchHandler(this);
    const h = this.handlers;
    h[ApiKey.Produce] = (r, c) => handleProduce(this, r, c);
    h[ApiKey.Fetch] = (r, c) => this.fetcher.handle(r, c);
    h[ApiKey.ListOffsets] = (r) => handleListOffsets(this, r);
    h[ApiKey.Metadata] = (r, c) => handleMetadata(this, r, c);
    h[ApiKey.OffsetCommit] = (r) => handleOffsetCommit(this, r);
    h[ApiKey.OffsetFetch] = (r) => handleOffsetFetch(this, r);
    h[ApiKey.FindCoordinator] = (r) => handleFindCoordinator(this, r);
    h[ApiKey.JoinGroup] = (r, c) => handleJoinGroup(this, r, c);
    h[ApiKey.Heartbeat] = (r) => handleHeartbeat(this, r);
    h[ApiKey.LeaveGroup] = (r) => handleLeaveGroup(this, r);
    h[ApiKey.SyncGroup] = (r) => handleSyncGroup(this, r);
    h[ApiKey.DescribeGroups] = (r) => handleDescribeGroups(this, r);
    h[ApiKey.ListGroups] = () => handleListGroups(this);
    h[ApiKey.ApiVersions] = () => handleApiVersions(ErrorCode.NONE);
    h[ApiKey.CreateTopics] = (r) => handleCreateTopics(this, r);
    h[ApiKey.DeleteTopics] = (r) => handleDeleteTopics(this, r);
    h[ApiKey.InitProducerId] = (r) => handleInitProducerId(this, r);
    h[ApiKey.AddPartitionsToTxn] = (r) => handleAddPartitionsToTxn(this, r);
    h[ApiKey.AddOffsetsToTxn] = (r) => handleAddOffsetsToTxn(this, r);
    h[ApiKey.EndTxn] = (r) => handleEndTxn(this, r);
    h[ApiKey.TxnOffsetCommit] = (r) => handleTxnOffsetCommit(this, r);
    if (config.retentionCheckMs > 0) {
      this.retentionTimer = setInterval(() => this.applyRetention(Date.now()), config.retentionCheckMs);
      this.retentionTimer.unref();
    }
  }

  /** Loads persisted state (data-dir mode). */
  recover(): void {
    this.storage?.recover(this);
  }

  /** Runs the handler of `apiKey`: a response, a promise of one, or null for no response (acks=0). */
  handle(apiKey: number, request: unknown, ctx: RequestContext): unknown {
    const handler = this.handlers[apiKey];
    if (!handler) throw new Error(`no handler for API key ${apiKey}`);
    return handler(request, ctx);
  }

  /** The ApiVersions answer with `errorCode` (the network layer's answer to an unknown version). */
  apiVersions(errorCode: number): ApiVersionsResponse {
    return handleApiVersions(errorCode);
  }

  // ---- topics ------------------------------------------------------------------------------------------

  createTopic(name: string, partitions: number, configs = new Map<string, string>()): Topic {
    const topic = this.restoreTopic(name, partitions, configs);
    this.storage?.createTopic(topic);
    this.logger.info({ topic: name, partitions }, 'topic created');
    return topic;
  }

  /** Registers a topic (recovering its partitions from storage) without persisting it again. */
  restoreTopic(name: string, partitions: number, configs: Map<string, string>): Topic {
    const topic = new Topic(name, partitions, configs, this.config.topicDefaults);
    this.topics.set(name, topic);
    for (const p of topic.partitions) this.attachPartition(topic, p);
    return topic;
  }

  attachPartition(topic: Topic, p: Partition): void {
    p.onAppend = () => this.fetcher.partitionChanged(p);
    if (this.storage && !p.store) p.store = this.storage.openPartition(topic, p);
  }

  /** The topic, auto-created when allowed and the name is valid. */
  topicForWrite(name: string, allowCreate: boolean): Topic | undefined {
    const topic = this.topics.get(name);
    if (topic) return topic;
    if (!allowCreate || !this.config.autoCreateTopics || invalidTopicName(name)) return undefined;
    if (this.partitionCount() + this.config.defaultPartitions > MAX_PARTITIONS) return undefined;
    return this.createTopic(name, this.config.defaultPartitions);
  }

  deleteTopic(name: string): boolean {
    const topic = this.topics.get(name);
    if (!topic) return false;
    this.topics.delete(name);
    for (const p of topic.partitions) {
      p.onAppend = null;
      p.store?.destroy();
      p.store = null;
    }
    this.storage?.deleteTopic(name);
    this.groups.deleteTopicOffsets(name);
    this.fetcher.wakeAll();
    this.logger.info({ topic: name }, 'topic deleted');
    return true;
  }

  partitionCount(): number {
    let n = 0;
    for (const t of this.topics.values()) n += t.partitions.length;
    return n;
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.topics.get(topic)?.partition(index);
  }

  applyRetention(now: number): void {
    for (const t of this.topics.values()) for (const p of t.partitions) p.applyRetention(t.retention, now);
    this.groups.expireOffsets(now);
  }

  close(): void {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
    this.fetcher.close();
    this.groups.close();
    this.txns.close();
    for (const t of this.topics.values()) for (const p of t.partitions) p.close();
    this.storage?.close();
  }
}
