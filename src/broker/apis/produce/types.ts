import type { TopicPartitions } from '../codec.ts';

export interface ProducePartitionData {
  index: number;
  /** The record batch bytes (a view into the request frame), or null. */
  records: Buffer | null;
}

export interface ProduceRequest {
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  topics: TopicPartitions<ProducePartitionData>[];
}

export interface ProducePartitionResponse {
  index: number;
  errorCode: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
}

export interface ProduceResponse {
  topics: TopicPartitions<ProducePartitionResponse>[];
  throttleTimeMs: number;
}
