/**
 * FindCoordinator v0 (GroupCoordinator)
 * Request  => key:STRING
 * Response => error_code:INT16 node_id:INT32 host:STRING port:INT32
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { FindCoordinatorRequest, FindCoordinatorResponse } from './types.ts';

export const findCoordinatorV0 = codec<FindCoordinatorRequest, FindCoordinatorResponse>(
  ApiKey.FindCoordinator,
  0,
  (d) => ({ key: d.string(), keyType: 0 }),
  (e, r) => {
    e.int16(r.errorCode).int32(r.nodeId).string(r.host).int32(r.port);
  },
);
