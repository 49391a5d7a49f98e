/**
 * OffsetFetch v1 (offsets stored by the coordinator, not ZooKeeper)
 * Request  => group_id:STRING [topics => name:STRING [partition_indexes:INT32]]
 * Response => [topics => name:STRING [partitions => partition_index:INT32 committed_offset:INT64
 *             metadata:NULLABLE_STRING error_code:INT16]]
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { OffsetFetchRequest, OffsetFetchResponse } from './types.ts';

export const offsetFetchV1 = codec<OffsetFetchRequest, OffsetFetchResponse>(
  ApiKey.OffsetFetch,
  1,
  (d) => ({
    groupId: d.string(),
    topics: d.array((t) => ({ name: t.string(), partitions: t.array((p) => p.int32()) })),
  }),
  (e, r) => {
    e.array(r.topics, (e, t) => {
      e.string(t.name);
      e.array(t.partitions, (e, p) =>
        e.int32(p.index).int64(p.committedOffset).nullableString(p.metadata).int16(p.errorCode),
      );
    });
  },
);
