/** ListGroups: every group this coordinator knows. */
import type { ListGroupsResponse } from '../apis/list-groups/types.ts';
import type { BrokerState } from '../broker-state.ts';
import { ErrorCode } from '../protocol/error-codes.ts';

export function handleListGroups(broker: BrokerState): ListGroupsResponse {
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups: broker.groups.list() };
}
