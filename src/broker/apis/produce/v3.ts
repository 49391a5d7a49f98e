/**
 * Produce v3
 * Request  => transactional_id:NULLABLE_STRING acks:INT16 timeout_ms:INT32
 *             [topic_data => name:STRING [partition_data => index:INT32 records:RECORDS]]
 * Response => [responses => name:STRING [partition => index:INT32 error_code:INT16 base_offset:INT64
 *             log_append_time_ms:INT64]] throttle_time_ms:INT32
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import type { Decoder } from '../../protocol/decoder.ts';
import type { Encoder } from '../../protocol/encoder.ts';
import { codec } from '../codec.ts';
import type { ProducePartitionResponse, ProduceRequest, ProduceResponse } from './types.ts';

export function decodeProduceRequest(d: Decoder): ProduceRequest {
  return {
    transactionalId: d.nullableString(),
    acks: d.int16(),
    timeoutMs: d.int32(),
    topics: d.array((t) => ({
      name: t.string(),
      partitions: t.array((p) => ({ index: p.int32(), records: p.nullableBytes() })),
    })),
  };
}

export function encodeProduceResponse(e: Encoder, r: ProduceResponse, withLogStartOffset: boolean): void {
  e.array(r.topics, (e, t) => {
    e.string(t.name);
    e.array(t.partitions, (e, p: ProducePartitionResponse) => {
      e.int32(p.index).int16(p.errorCode).int64(p.baseOffset).int64(p.logAppendTimeMs);
      if (withLogStartOffset) e.int64(p.logStartOffset);
    });
  });
  e.int32(r.throttleTimeMs);
}

export const produceV3 = codec<ProduceRequest, ProduceResponse>(
  ApiKey.Produce,
  3,
  decodeProduceRequest,
  (e, r) => encodeProduceResponse(e, r, false),
);
