/**
 * OffsetCommit v2
 * Request  => group_id:STRING generation_id:INT32 member_id:STRING retention_time_ms:INT64
 *             [topics => name:STRING [partitions => partition_index:INT32 committed_offset:INT64
 *               committed_metadata:NULLABLE_STRING]]
 * Response => [topics => name:STRING [partitions => partition_index:INT32 error_code:INT16]]
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { OffsetCommitRequest, OffsetCommitResponse } from './types.ts';

export const offsetCommitV2 = codec<OffsetCommitRequest, OffsetCommitResponse>(
  ApiKey.OffsetCommit,
  2,
  (d) => ({
    groupId: d.string(),
    generationId: d.int32(),
    memberId: d.string(),
    retentionTimeMs: d.int64(),
    topics: d.array((t) => ({
      name: t.string(),
      partitions: t.array((p) => ({
        index: p.int32(),
        committedOffset: p.int64(),
        metadata: p.nullableString(),
      })),
    })),
  }),
  (e, r) => {
    e.array(r.topics, (e, t) => {
      e.string(t.name);
      e.array(t.partitions, (e, p) => e.int32(p.index).int16(p.errorCode));
    });
  },
);
