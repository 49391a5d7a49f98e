export interface FetchPartition {
  index: number;
  currentLeaderEpoch: number;
  fetchOffset: number;
  logStartOffset: number;
  partitionMaxBytes: number;
}

export interface FetchRequest {
  replicaId: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  /** 0 read_uncommitted, 1 read_committed. */
  isolationLevel: number;
  sessionId: number;
  sessionEpoch: number;
  topics: { name: string; partitions: FetchPartition[] }[];
  forgottenTopics: { name: string; partitions: number[] }[];
  rackId: string;
}

export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
}

export interface FetchPartitionResponse {
  index: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** null for read_uncommitted. */
  abortedTransactions: AbortedTransaction[] | null;
  preferredReadReplica: number;
  /** Whole record batches, written back to back (by reference). */
  records: Buffer[];
}

export interface FetchResponse {
  throttleTimeMs: number;
  errorCode: number;
  sessionId: number;
  topics: { name: string; partitions: FetchPartitionResponse[] }[];
}
