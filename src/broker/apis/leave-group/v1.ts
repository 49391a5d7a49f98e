/** LeaveGroup v1: the v0 request; response => throttle_time_ms:INT32 error_code:INT16 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { LeaveGroupRequest, LeaveGroupResponse } from './types.ts';
import { decodeLeaveGroup } from './v0.ts';

export const leaveGroupV1 = codec<LeaveGroupRequest, LeaveGroupResponse>(
  ApiKey.LeaveGroup,
  1,
  decodeLeaveGroup,
  (e, r) => {
    e.int32(r.throttleTimeMs).int16(r.errorCode);
  },
);
