/** JoinGroup: enters the group coordinator's join barrier (answered when the rebalance completes). */
import type { JoinGroupRequest, JoinGroupResponse } from '../apis/join-group/types.ts';
import type { BrokerState, RequestContext } from '../broker-state.ts';

export function handleJoinGroup(
  broker: BrokerState,
  req: JoinGroupRequest,
  ctx: RequestContext,
): JoinGroupResponse | Promise<JoinGroupResponse> {
  return broker.groups.joinGroup(req, ctx.clientId, ctx.clientHost);
}
