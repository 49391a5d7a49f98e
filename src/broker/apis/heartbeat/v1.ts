/** Heartbeat v1: the v0 request; response => throttle_time_ms:INT32 error_code:INT16 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { HeartbeatRequest, HeartbeatResponse } from './types.ts';
import { decodeHeartbeat } from './v0.ts';

export const heartbeatV1 = codec<HeartbeatRequest, HeartbeatResponse>(
  ApiKey.Heartbeat,
  1,
  decodeHeartbeat,
  (e, r) => {
    e.int32(r.throttleTimeMs).int16(r.errorCode);
  },
);
