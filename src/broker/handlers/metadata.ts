/**
 * Metadata: this one broker, and every topic (topics null) or the named ones, auto-creating unknown names
 * when allowed (always before v4, by the request's flag from v4).
 */
import type { MetadataRequest, MetadataResponse, MetadataTopic } from '../apis/metadata/types.ts';
import type { BrokerState, RequestContext } from '../broker-state.ts';
import { invalidTopicName, type Topic } from '../log/topics.ts';
import { ErrorCode } from '../protocol/error-codes.ts';

export function handleMetadata(
  broker: BrokerState,
  req: MetadataRequest,
  ctx: RequestContext,
): MetadataResponse {
  const { config } = broker;
  const nodeId = config.nodeId;
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
    topics = [...broker.topics.values()].map(describe);
  } else {
    const allowCreate = ctx.apiVersion < 4 || req.allowAutoTopicCreation;
    topics = req.topics.map((name) => {
      const invalid = invalidTopicName(name);
      const topic = invalid ? undefined : broker.topicForWrite(name, allowCreate);
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
    brokers: [{ nodeId, host: config.advertisedHost, port: config.advertisedPort, rack: null }],
    clusterId: config.clusterId,
    controllerId: nodeId,
    topics,
  };
}
