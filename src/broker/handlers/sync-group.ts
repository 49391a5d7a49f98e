/** SyncGroup: the leader hands out assignments; followers wait for theirs. */
import type { SyncGroupRequest, SyncGroupResponse } from '../apis/sync-group/types.ts';
import type { BrokerState } from '../broker-state.ts';

export function handleSyncGroup(
  broker: BrokerState,
  req: SyncGroupRequest,
): SyncGroupResponse | Promise<SyncGroupResponse> {
  return broker.groups.syncGroup(req);
}
