/** Heartbeat: keeps a member's session alive, or tells it to rejoin. */
import type { HeartbeatRequest, HeartbeatResponse } from '../apis/heartbeat/types.ts';
import type { BrokerState } from '../broker-state.ts';

export function handleHeartbeat(broker: BrokerState, req: HeartbeatRequest): HeartbeatResponse {
  return {
    throttleTimeMs: 0,
    errorCode: broker.groups.heartbeat(req.groupId, req.generationId, req.memberId),
  };
}
