/**
 * CreateTopics: checks each topic (name, partitions or assignments, replication factor, configs and this
 * single-node broker's partition limits) and creates it unless the request only validates.
 */
import type { CreateTopicsRequest, CreateTopicsResponse } from '../apis/create-topics/types.ts';
import { type BrokerState, MAX_PARTITIONS, MAX_PARTITIONS_PER_TOPIC } from '../broker-state.ts';
import { invalidTopicName, TOPIC_CONFIG_NAMES } from '../log/topics.ts';
import { ErrorCode } from '../protocol/error-codes.ts';

export function handleCreateTopics(broker: BrokerState, req: CreateTopicsRequest): CreateTopicsResponse {
  const { config } = broker;
  const seen = new Map<string, number>();
  for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
  const topics = req.topics.map((t) => {
    const result = (errorCode: number, errorMessage: string | null = null) => ({
      name: t.name,
      errorCode,
      errorMessage,
    });
    if ((seen.get(t.name) ?? 0) > 1) return result(ErrorCode.INVALID_REQUEST, 'topic listed more than once');
    const invalid = invalidTopicName(t.name);
    if (invalid) return result(ErrorCode.INVALID_TOPIC_EXCEPTION, invalid);
    if (broker.topics.has(t.name))
      return result(ErrorCode.TOPIC_ALREADY_EXISTS, `topic '${t.name}' already exists`);
    let partitions = t.numPartitions;
    if (t.assignments.length > 0) {
      if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
        return result(ErrorCode.INVALID_REQUEST, 'both assignments and partitions/replication factor given');
      }
      const indexes = t.assignments.map((a) => a.partitionIndex).sort((a, b) => a - b);
      if (indexes.some((p, i) => p !== i)) {
        return result(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'partitions must be numbered 0..n-1');
      }
      if (t.assignments.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== config.nodeId)) {
        return result(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `single-node broker: every replica must be broker ${config.nodeId}`,
        );
      }
      partitions = t.assignments.length;
    } else {
      if (partitions === -1) partitions = config.defaultPartitions;
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
    if (partitions > MAX_PARTITIONS_PER_TOPIC || broker.partitionCount() + partitions > MAX_PARTITIONS) {
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
    if (!req.validateOnly) broker.createTopic(t.name, partitions, configs);
    return result(ErrorCode.NONE);
  });
  return { throttleTimeMs: 0, topics };
}
