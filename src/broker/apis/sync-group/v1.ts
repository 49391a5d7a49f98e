/** SyncGroup v1: the v0 request; response => throttle_time_ms:INT32 error_code:INT16 assignment:BYTES */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { SyncGroupRequest, SyncGroupResponse } from './types.ts';
import { decodeSyncGroup } from './v0.ts';

export const syncGroupV1 = codec<SyncGroupRequest, SyncGroupResponse>(
  ApiKey.SyncGroup,
  1,
  decodeSyncGroup,
  (e, r) => {
    e.int32(r.throttleTimeMs).int16(r.errorCode).bytes(r.assignment);
  },
);
