/** API keys and the exact version ranges this broker advertises in ApiVersions. */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  InitProducerId: 22,
  AddPartitionsToTxn: 24,
  AddOffsetsToTxn: 25,
  EndTxn: 26,
  TxnOffsetCommit: 28,
} as const;

export type ApiKeyValue = (typeof ApiKey)[keyof typeof ApiKey];

export interface AdvertisedRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/**
 * Advertised exactly as listed (issue 3): non-flexible versions only, except ApiVersions v3.
 * librdkafka enables a feature only when these overlap its own ranges; kafkajs picks min(its max, ours).
 */
export const ADVERTISED: readonly AdvertisedRange[] = [
  { apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 7 },
  { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 11 },
  { apiKey: ApiKey.ListOffsets, minVersion: 1, maxVersion: 2 },
  { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 4 },
  { apiKey: ApiKey.OffsetCommit, minVersion: 2, maxVersion: 2 },
  { apiKey: ApiKey.OffsetFetch, minVersion: 1, maxVersion: 1 },
  { apiKey: ApiKey.FindCoordinator, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.JoinGroup, minVersion: 0, maxVersion: 2 },
  { apiKey: ApiKey.Heartbeat, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.LeaveGroup, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.SyncGroup, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.DescribeGroups, minVersion: 0, maxVersion: 2 },
  { apiKey: ApiKey.ListGroups, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 3 },
  { apiKey: ApiKey.CreateTopics, minVersion: 0, maxVersion: 3 },
  { apiKey: ApiKey.DeleteTopics, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.InitProducerId, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.AddPartitionsToTxn, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.AddOffsetsToTxn, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.EndTxn, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.TxnOffsetCommit, minVersion: 0, maxVersion: 1 },
];
