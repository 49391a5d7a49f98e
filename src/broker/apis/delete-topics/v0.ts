/**
 * DeleteTopics v0
 * Request  => [topic_names:STRING] timeout_ms:INT32
 * Response => [responses => name:STRING error_code:INT16]
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import type { Decoder } from '../../protocol/decoder.ts';
import type { Encoder } from '../../protocol/encoder.ts';
import { codec } from '../codec.ts';
import type { DeleteTopicsRequest, DeleteTopicsResponse } from './types.ts';

export function decodeDeleteTopics(d: Decoder): DeleteTopicsRequest {
  return { topicNames: d.array((t) => t.string()), timeoutMs: d.int32() };
}

export function encodeResponses(e: Encoder, r: DeleteTopicsResponse): void {
  e.array(r.responses, (e, t) => e.string(t.name).int16(t.errorCode));
}

export const deleteTopicsV0 = codec<DeleteTopicsRequest, DeleteTopicsResponse>(
  ApiKey.DeleteTopics,
  0,
  decodeDeleteTopics,
  encodeResponses,
);
