export interface OffsetFetchRequest {
  groupId: string;
  topics: { name: string; partitions: number[] }[];
}

export interface OffsetFetchResponse {
  topics: {
    name: string;
    partitions: { index: number; committedOffset: number; metadata: string | null; errorCode: number }[];
  }[];
}
