/** ListGroups: every group this coordinator knows. */
import type { ListGroupsResponse } from '../apis/list-groups/types.ts';
import { ErrorCode } from '../protocol/error-codes.ts';
import type { BrokerState } from '../types.ts';

export function handleListGroups(broker: BrokerState): ListGroupsResponse {
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups: broker.groups.list() };
}
