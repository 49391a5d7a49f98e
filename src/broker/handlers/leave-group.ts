/** LeaveGroup: removes a member at once (and rebalances the rest). */
import type { LeaveGroupRequest, LeaveGroupResponse } from '../apis/leave-group/types.ts';
import type { BrokerState } from '../broker-state.ts';

export function handleLeaveGroup(broker: BrokerState, req: LeaveGroupRequest): LeaveGroupResponse {
  return { throttleTimeMs: 0, errorCode: broker.groups.leaveGroup(req.groupId, req.memberId) };
}
