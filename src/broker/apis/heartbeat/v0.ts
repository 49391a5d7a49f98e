/**
 * Heartbeat v0
 * Request  => group_id:STRING generation_id:INT32 member_id:STRING
 * Response => error_code:INT16
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import type { Decoder } from '../../protocol/decoder.ts';
import { codec } from '../codec.ts';
import type { HeartbeatRequest, HeartbeatResponse } from './types.ts';

export function decodeHeartbeat(d: Decoder): HeartbeatRequest {
  return { groupId: d.string(), generationId: d.int32(), memberId: d.string() };
}

export const heartbeatV0 = codec<HeartbeatRequest, HeartbeatResponse>(
  ApiKey.Heartbeat,
  0,
  decodeHeartbeat,
  (e, r) => {
    e.int16(r.errorCode);
  },
);
