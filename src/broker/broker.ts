/**
 * The broker's request handlers over its state: topics and partitions (log module), the group coordinator
 * and the transaction coordinator. The network layer decodes a request with the version's codec, calls
 * `handle`, and encodes what comes back; nothing here knows about sockets.
 */
import type { Logger } from 'pino';
import type { AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from './apis/add-offsets-to-txn/types.ts';
import type {
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
} from './apis/add-partitions-to-txn/types.ts';
import type { ApiVersionsResponse } from './apis/api-versions/types.ts';
import type { CreateTopicsRequest, CreateTopicsResponse } from './apis/create-topics/types.ts';
import type { DeleteTopicsRequest, DeleteTopicsResponse } from './apis/delete-topics/types.ts';
import type { DescribeGroupsRequest, DescribeGroupsResponse } from './apis/describe-groups/types.ts';
import type { EndTxnRequest, EndTxnResponse } from './apis/end-txn/types.ts';
import type { FindCoordinatorRequest, FindCoordinatorResponse } from './apis/find-coordinator/types.ts';
import type { HeartbeatRequest, HeartbeatResponse } from './apis/heartbeat/types.ts';
import type { InitProducerIdRequest, InitProducerIdResponse } from './apis/init-producer-id/types.ts';
import type { JoinGroupRequest, JoinGroupResponse } from './apis/join-group/types.ts';
import type { LeaveGroupRequest, LeaveGroupResponse } from './apis/leave-group/types.ts';
import type { ListGroupsResponse } from './apis/list-groups/types.ts';
import type { ListOffsetsRequest, ListOffsetsResponse } from './apis/list-offsets/types.ts';
import type { MetadataRequest, MetadataResponse, MetadataTopic } from './apis/metadata/types.ts';
import type { OffsetCommitRequest, OffsetCommitResponse } from './apis/offset-commit/types.ts';
import type { OffsetFetchRequest, OffsetFetchResponse } from './apis/offset-fetch/types.ts';
import type { ProducePartitionResponse, ProduceRequest, ProduceResponse } from './apis/produce/types.ts';
import type { SyncGroupRequest, SyncGroupResponse } from './apis/sync-group/types.ts';
import type { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from './apis/txn-offset-commit/types.ts';
import { FetchHandler } from './fetch.ts';
import { GroupCoordinator } from './group/coordinator.ts';
import type { Partition } from './log/partition.ts';
import { invalidTopicName, TOPIC_CONFIG_NAMES, Topic, type TopicDefaults } from './log/topics.ts';
import { ADVERTISED, ApiKey } from './protocol/api-keys.ts';
import { ErrorCode } from './protocol/error-codes.ts';
import { validateProducedBatch } from './protocol/record-batch.ts';
import type { BrokerStorage } from './storage/storage.ts';
import { TxnCoordinator } from './txn/coordinator.ts';

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
  /** Retention check interval. */
  retentionCheckMs: number;
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

// biome-ignore lint/suspicious/noExplicitAny: handlers are typed per API key below.
type Handler = (request: any, ctx: RequestContext) => unknown;

export class Broker {
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
    h[ApiKey.Produce] = (r, c) => this.produce(r, c);
    h[ApiKey.Fetch] = (r, c) => this.fetcher.handle(r, c);
    h[ApiKey.ListOffsets] = (r) => this.listOffsets(r);
    h[ApiKey.Metadata] = (r, c) => this.metadata(r, c);
    h[ApiKey.OffsetCommit] = (r) => this.offsetCommit(r);
    h[ApiKey.OffsetFetch] = (r) => this.offsetFetch(r);
    h[ApiKey.FindCoordinator] = (r) => this.findCoordinator(r);
    h[ApiKey.JoinGroup] = (r, c) => this.joinGroup(r, c);
    h[ApiKey.Heartbeat] = (r) => this.heartbeat(r);
    h[ApiKey.LeaveGroup] = (r) => this.leaveGroup(r);
    h[ApiKey.SyncGroup] = (r) => this.syncGroup(r);
    h[ApiKey.DescribeGroups] = (r) => this.describeGroups(r);
    h[ApiKey.ListGroups] = () => this.listGroups();
    h[ApiKey.ApiVersions] = () => this.apiVersions(ErrorCode.NONE);
    h[ApiKey.CreateTopics] = (r) => this.createTopics(r);
    h[ApiKey.DeleteTopics] = (r) => this.deleteTopics(r);
    h[ApiKey.InitProducerId] = (r) => this.initProducerId(r);
    h[ApiKey.AddPartitionsToTxn] = (r) => this.addPartitionsToTxn(r);
    h[ApiKey.AddOffsetsToTxn] = (r) => this.addOffsetsToTxn(r);
    h[ApiKey.EndTxn] = (r) => this.endTxn(r);
    h[ApiKey.TxnOffsetCommit] = (r) => this.txnOffsetCommit(r);
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
  private topicForWrite(name: string, allowCreate: boolean): Topic | undefined {
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
  }

  // ---- Produce -------------------------------------------------------------------------------------------

  private produce(req: ProduceRequest, ctx: RequestContext): ProduceResponse | null {
    const now = Date.now();
    const badAcks = req.acks !== 0 && req.acks !== 1 && req.acks !== -1;
    const topics = req.topics.map((t) => {
      const topic = badAcks ? undefined : this.topicForWrite(t.name, true);
      return {
        name: t.name,
        partitions: t.partitions.map((pd): ProducePartitionResponse => {
          const out: ProducePartitionResponse = {
            index: pd.index,
            errorCode: ErrorCode.NONE,
            baseOffset: -1,
            logAppendTimeMs: -1,
            logStartOffset: -1,
          };
          if (badAcks) {
            out.errorCode = ErrorCode.INVALID_REQUIRED_ACKS;
            return out;
          }
          const partition = topic?.partition(pd.index);
          if (!topic || !partition) {
            out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            return out;
          }
          out.logStartOffset = partition.logStartOffset;
          if (!pd.records) {
            out.errorCode = ErrorCode.CORRUPT_MESSAGE;
            return out;
          }
          const v = validateProducedBatch(pd.records, {
            maxMessageBytes: topic.maxMessageBytes,
            produceVersion: ctx.apiVersion,
          });
          if (v.errorCode !== ErrorCode.NONE) {
            out.errorCode = v.errorCode;
            this.logger.debug(
              { topic: t.name, partition: pd.index, error: v.errorCode, reason: v.message },
              'produce rejected',
            );
            return out;
          }
          // A small batch sharing its memory with much more (a socket chunk holding other frames) is copied,
          // so the log does not pin that memory; large batches stay views of their request frame.
          let batch = pd.records;
          if (batch.length < 65536 && batch.buffer.byteLength > batch.length * 2) batch = Buffer.from(batch);
          const result = partition.appendBatch(batch, v.header, now, (pid, epoch) => {
            const code = this.txns.verifyProducer(pid, epoch);
            if (code !== ErrorCode.NONE) return code;
            return this.txns.inTransaction(pid, t.name, pd.index)
              ? ErrorCode.NONE
              : ErrorCode.INVALID_TXN_STATE;
          });
          out.errorCode = result.errorCode;
          out.baseOffset = result.baseOffset;
          out.logStartOffset = partition.logStartOffset;
          if (result.errorCode !== ErrorCode.NONE) {
            this.logger.debug(
              { topic: t.name, partition: pd.index, error: result.errorCode, reason: result.message },
              'produce rejected',
            );
          }
          return out;
        }),
      };
    });
    if (req.acks === 0) return null;
    return { topics, throttleTimeMs: 0 };
  }

  // ---- ListOffsets ---------------------------------------------------------------------------------------

  private listOffsets(req: ListOffsetsRequest): ListOffsetsResponse {
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const partition = this.partition(t.name, p.index);
          if (!partition) {
            return {
              index: p.index,
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              timestamp: -1,
              offset: -1,
            };
          }
          let offset: number;
          let timestamp = -1;
          if (p.timestamp === -1) {
            offset = req.isolationLevel === 1 ? partition.lastStableOffset() : partition.highWatermark;
          } else if (p.timestamp === -2) {
            offset = partition.logStartOffset;
          } else {
            const found = partition.offsetForTimestamp(p.timestamp);
            offset = found.offset;
            timestamp = found.timestamp;
            if (req.isolationLevel === 1 && offset >= partition.lastStableOffset()) {
              offset = -1;
              timestamp = -1;
            }
          }
          return { index: p.index, errorCode: ErrorCode.NONE, timestamp, offset };
        }),
      })),
    };
  }

  // ---- Metadata ------------------------------------------------------------------------------------------

  private metadata(req: MetadataRequest, ctx: RequestContext): MetadataResponse {
    const nodeId = this.config.nodeId;
    const describe = (topic: Topic): MetadataTopic => ({
      errorCode: ErrorCode.NONE,
      name: topic.name,
      isInternal: false,
      partitions: topic.partitions.map((p) => ({
        errorCode: ErrorCode.NONE,
        index: p.index,
        leaderId: nodeId,
        replicaNodes: [nodeId],
        isrNodes: [nodeId],
      })),
    });
    let topics: MetadataTopic[];
    if (req.topics === null) {
      topics = [...this.topics.values()].map(describe);
    } else {
      const allowCreate = ctx.apiVersion < 4 || req.allowAutoTopicCreation;
      topics = req.topics.map((name) => {
        const invalid = invalidTopicName(name);
        const topic = invalid ? undefined : this.topicForWrite(name, allowCreate);
        if (topic) return describe(topic);
        return {
          errorCode: invalid ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          name,
          isInternal: false,
          partitions: [],
        };
      });
    }
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId, host: this.config.advertisedHost, port: this.config.advertisedPort, rack: null }],
      clusterId: this.config.clusterId,
      controllerId: nodeId,
      topics,
    };
  }

  // ---- ApiVersions ---------------------------------------------------------------------------------------

  apiVersions(errorCode: number): ApiVersionsResponse {
    return { errorCode, apiKeys: ADVERTISED.map((a) => ({ ...a })), throttleTimeMs: 0 };
  }

  // ---- Group APIs ----------------------------------------------------------------------------------------

  private findCoordinator(req: FindCoordinatorRequest): FindCoordinatorResponse {
    const ok = req.keyType === 0 || req.keyType === 1;
    return {
      throttleTimeMs: 0,
      errorCode: ok ? ErrorCode.NONE : ErrorCode.INVALID_REQUEST,
      errorMessage: ok ? null : `unknown key type ${req.keyType}`,
      nodeId: ok ? this.config.nodeId : -1,
      host: ok ? this.config.advertisedHost : '',
      port: ok ? this.config.advertisedPort : -1,
    };
  }

  private joinGroup(
    req: JoinGroupRequest,
    ctx: RequestContext,
  ): JoinGroupResponse | Promise<JoinGroupResponse> {
    return this.groups.joinGroup(req, ctx.clientId, ctx.clientHost);
  }

  private syncGroup(req: SyncGroupRequest): SyncGroupResponse | Promise<SyncGroupResponse> {
    return this.groups.syncGroup(req);
  }

  private heartbeat(req: HeartbeatRequest): HeartbeatResponse {
    return {
      throttleTimeMs: 0,
      errorCode: this.groups.heartbeat(req.groupId, req.generationId, req.memberId),
    };
  }

  private leaveGroup(req: LeaveGroupRequest): LeaveGroupResponse {
    return { throttleTimeMs: 0, errorCode: this.groups.leaveGroup(req.groupId, req.memberId) };
  }

  private describeGroups(req: DescribeGroupsRequest): DescribeGroupsResponse {
    return { throttleTimeMs: 0, groups: req.groups.map((g) => this.groups.describe(g)) };
  }

  private listGroups(): ListGroupsResponse {
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups: this.groups.list() };
  }

  private offsetCommit(req: OffsetCommitRequest): OffsetCommitResponse {
    const check = this.groups.checkCommit(req.groupId, req.generationId, req.memberId);
    return {
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          if (check !== ErrorCode.NONE) return { index: p.index, errorCode: check };
          if (!this.partition(t.name, p.index)) {
            return { index: p.index, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          }
          const errorCode = this.groups.commitOffset(
            req.groupId,
            t.name,
            p.index,
            p.committedOffset,
            p.metadata ?? '',
          );
          return { index: p.index, errorCode };
        }),
      })),
    };
  }

  private offsetFetch(req: OffsetFetchRequest): OffsetFetchResponse {
    return {
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((index) => {
          const committed = this.groups.fetchOffset(req.groupId, t.name, index);
          return {
            index,
            committedOffset: committed ? committed.offset : -1,
            metadata: committed ? committed.metadata : '',
            errorCode: ErrorCode.NONE,
          };
        }),
      })),
    };
  }

  // ---- Admin ---------------------------------------------------------------------------------------------

  private createTopics(req: CreateTopicsRequest): CreateTopicsResponse {
    const seen = new Map<string, number>();
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    const topics = req.topics.map((t) => {
      const result = (errorCode: number, errorMessage: string | null = null) => ({
        name: t.name,
        errorCode,
        errorMessage,
      });
      if ((seen.get(t.name) ?? 0) > 1)
        return result(ErrorCode.INVALID_REQUEST, 'topic listed more than once');
      const invalid = invalidTopicName(t.name);
      if (invalid) return result(ErrorCode.INVALID_TOPIC_EXCEPTION, invalid);
      if (this.topics.has(t.name))
        return result(ErrorCode.TOPIC_ALREADY_EXISTS, `topic '${t.name}' already exists`);
      let partitions = t.numPartitions;
      if (t.assignments.length > 0) {
        if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
          return result(
            ErrorCode.INVALID_REQUEST,
            'both assignments and partitions/replication factor given',
          );
        }
        const indexes = t.assignments.map((a) => a.partitionIndex).sort((a, b) => a - b);
        if (indexes.some((p, i) => p !== i)) {
          return result(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'partitions must be numbered 0..n-1');
        }
        if (t.assignments.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== this.config.nodeId)) {
          return result(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `single-node broker: every replica must be broker ${this.config.nodeId}`,
          );
        }
        partitions = t.assignments.length;
      } else {
        if (partitions === -1) partitions = this.config.defaultPartitions;
        if (partitions <= 0) {
          return result(ErrorCode.INVALID_PARTITIONS, `number of partitions ${t.numPartitions} is invalid`);
        }
        if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
          return result(
            ErrorCode.INVALID_REPLICATION_FACTOR,
            `replication factor ${t.replicationFactor}: this single-node broker has 1 broker`,
          );
        }
      }
      if (partitions > MAX_PARTITIONS_PER_TOPIC || this.partitionCount() + partitions > MAX_PARTITIONS) {
        return result(
          ErrorCode.POLICY_VIOLATION,
          `this embedded broker allows ${MAX_PARTITIONS_PER_TOPIC} partitions per topic and ${MAX_PARTITIONS} in all`,
        );
      }
      const configs = new Map<string, string>();
      for (const c of t.configs) {
        if (!TOPIC_CONFIG_NAMES.has(c.name))
          return result(ErrorCode.INVALID_CONFIG, `unknown config '${c.name}'`);
        if (c.value !== null) configs.set(c.name, c.value);
      }
      if (!req.validateOnly) this.createTopic(t.name, partitions, configs);
      return result(ErrorCode.NONE);
    });
    return { throttleTimeMs: 0, topics };
  }

  private deleteTopics(req: DeleteTopicsRequest): DeleteTopicsResponse {
    return {
      throttleTimeMs: 0,
      responses: req.topicNames.map((name) => ({
        name,
        errorCode: this.deleteTopic(name) ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      })),
    };
  }

  // ---- Transactions --------------------------------------------------------------------------------------

  private initProducerId(req: InitProducerIdRequest): InitProducerIdResponse {
    return { throttleTimeMs: 0, ...this.txns.initProducerId(req.transactionalId, req.transactionTimeoutMs) };
  }

  private addPartitionsToTxn(req: AddPartitionsToTxnRequest): AddPartitionsToTxnResponse {
    return {
      throttleTimeMs: 0,
      results: this.txns.addPartitions(req.transactionalId, req.producerId, req.producerEpoch, req.topics),
    };
  }

  private addOffsetsToTxn(req: AddOffsetsToTxnRequest): AddOffsetsToTxnResponse {
    return {
      throttleTimeMs: 0,
      errorCode: this.txns.addOffsets(req.transactionalId, req.producerId, req.producerEpoch, req.groupId),
    };
  }

  private endTxn(req: EndTxnRequest): EndTxnResponse {
    return {
      throttleTimeMs: 0,
      errorCode: this.txns.endTxn(req.transactionalId, req.producerId, req.producerEpoch, req.committed),
    };
  }

  private txnOffsetCommit(req: TxnOffsetCommitRequest): TxnOffsetCommitResponse {
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          index: p.index,
          errorCode: this.txns.txnOffsetCommit(
            req.transactionalId,
            req.groupId,
            req.producerId,
            req.producerEpoch,
            t.name,
            p.index,
            { offset: p.committedOffset, metadata: p.metadata },
          ),
        })),
      })),
    };
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
