/**
 * ListOffsets v1
 * Request  => replica_id:INT32 [topics => name:STRING [partitions => partition_index:INT32 timestamp:INT64]]
 * Response => [topics => name:STRING [partitions => partition_index:INT32 error_code:INT16 timestamp:INT64
 *             offset:INT64]]
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import type { Decoder } from '../../protocol/decoder.ts';
import type { Encoder } from '../../protocol/encoder.ts';
import { codec } from '../codec.ts';
import type { ListOffsetsRequest, ListOffsetsResponse } from './types.ts';

export function decodeTopics(d: Decoder): ListOffsetsRequest['topics'] {
  return d.array((t) => ({
    name: t.string(),
    partitions: t.array((p) => ({ index: p.int32(), timestamp: p.int64() })),
  }));
}

export function encodeTopics(e: Encoder, topics: ListOffsetsResponse['topics']): void {
  e.array(topics, (e, t) => {
    e.string(t.name);
    e.array(t.partitions, (e, p) => {
      e.int32(p.index).int16(p.errorCode).int64(p.timestamp).int64(p.offset);
    });
  });
}

export const listOffsetsV1 = codec<ListOffsetsRequest, ListOffsetsResponse>(
  ApiKey.ListOffsets,
  1,
  (d) => ({ replicaId: d.int32(), isolationLevel: 0, topics: decodeTopics(d) }),
  (e, r) => encodeTopics(e, r.topics),
);
