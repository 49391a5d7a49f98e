/**
 * The CreateTopics fields by version (v0..v3):
 * Request  => [topics => name:STRING num_partitions:INT32 replication_factor:INT16
 *               [assignments => partition_index:INT32 [broker_ids:INT32]]
 *               [configs => name:STRING value:NULLABLE_STRING]]
 *             timeout_ms:INT32 validate_only:BOOLEAN (v1+)
 * Response => throttle_time_ms:INT32 (v2+) [topics => name:STRING error_code:INT16
 *             error_message:NULLABLE_STRING (v1+)]
 */
import type { Decoder } from '../../protocol/decoder.ts';
import type { Encoder } from '../../protocol/encoder.ts';
import type { CreateTopicsRequest, CreateTopicsResponse } from './types.ts';

export function decodeCreateTopicsRequest(d: Decoder, version: number): CreateTopicsRequest {
  const topics = d.array((t) => ({
    name: t.string(),
    numPartitions: t.int32(),
    replicationFactor: t.int16(),
    assignments: t.array((a) => ({ partitionIndex: a.int32(), brokerIds: a.array((b) => b.int32()) })),
    configs: t.array((c) => ({ name: c.string(), value: c.nullableString() })),
  }));
  const timeoutMs = d.int32();
  const validateOnly = version >= 1 ? d.bool() : false;
  return { topics, timeoutMs, validateOnly };
}

export function encodeCreateTopicsResponse(e: Encoder, r: CreateTopicsResponse, version: number): void {
  if (version >= 2) e.int32(r.throttleTimeMs);
  e.array(r.topics, (e, t) => {
    e.string(t.name).int16(t.errorCode);
    if (version >= 1) e.nullableString(t.errorMessage);
  });
}
