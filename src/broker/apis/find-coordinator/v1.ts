/**
 * FindCoordinator v1
 * Request  => key:STRING key_type:INT8
 * Response => throttle_time_ms:INT32 error_code:INT16 error_message:NULLABLE_STRING node_id:INT32
 *             host:STRING port:INT32
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { FindCoordinatorRequest, FindCoordinatorResponse } from './types.ts';

export const findCoordinatorV1 = codec<FindCoordinatorRequest, FindCoordinatorResponse>(
  ApiKey.FindCoordinator,
  1,
  (d) => ({ key: d.string(), keyType: d.int8() }),
  (e, r) => {
    e.int32(r.throttleTimeMs).int16(r.errorCode).nullableString(r.errorMessage);
    e.int32(r.nodeId).string(r.host).int32(r.port);
  },
);
