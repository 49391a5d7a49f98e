export interface OffsetCommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  retentionTimeMs: number;
  topics: {
    name: string;
    partitions: { index: number; committedOffset: number; metadata: string | null }[];
  }[];
}

export interface OffsetCommitResponse {
  topics: { name: string; partitions: { index: number; errorCode: number }[] }[];
}
