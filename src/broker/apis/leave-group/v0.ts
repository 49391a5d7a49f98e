/**
 * LeaveGroup v0
 * Request  => group_id:STRING member_id:STRING
 * Response => error_code:INT16
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import type { Decoder } from '../../protocol/decoder.ts';
import { codec } from '../codec.ts';
import type { LeaveGroupRequest, LeaveGroupResponse } from './types.ts';

export function decodeLeaveGroup(d: Decoder): LeaveGroupRequest {
  return { groupId: d.string(), memberId: d.string() };
}

export const leaveGroupV0 = codec<LeaveGroupRequest, LeaveGroupResponse>(
  ApiKey.LeaveGroup,
  0,
  decodeLeaveGroup,
  (e, r) => {
    e.int16(r.errorCode);
  },
);
