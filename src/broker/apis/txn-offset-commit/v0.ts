/**
 * TxnOffsetCommit v0
 * Request  => transactional_id:STRING group_id:STRING producer_id:INT64 producer_epoch:INT16
 *             [topics => name:STRING [partitions => partition_index:INT32 committed_offset:INT64
 *               committed_metadata:NULLABLE_STRING]]
 * Response => throttle_time_ms:INT32 [topics => name:STRING [partitions => partition_index:INT32
 *             error_code:INT16]]
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from './types.ts';

export const txnOffsetCommitV0 = codec<TxnOffsetCommitRequest, TxnOffsetCommitResponse>(
  ApiKey.TxnOffsetCommit,
  0,
  (d) => ({
    transactionalId: d.string(),
    groupId: d.string(),
    producerId: d.int64(),
    producerEpoch: d.int16(),
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
    e.int32(r.throttleTimeMs);
    e.array(r.topics, (e, t) => {
      e.string(t.name);
      e.array(t.partitions, (e, p) => e.int32(p.index).int16(p.errorCode));
    });
  },
);
