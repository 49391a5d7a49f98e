/** DescribeGroups: state, protocol and members of each named group. */
import type { DescribeGroupsRequest, DescribeGroupsResponse } from '../apis/describe-groups/types.ts';
import type { BrokerState } from '../broker-state.ts';

export function handleDescribeGroups(
  broker: BrokerState,
  req: DescribeGroupsRequest,
): DescribeGroupsResponse {
  return { throttleTimeMs: 0, groups: req.groups.map((g) => broker.groups.describe(g)) };
}
