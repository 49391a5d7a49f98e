/** DescribeGroups v1: the v0 request; throttle_time_ms:INT32 first in the response. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { DescribeGroupsRequest, DescribeGroupsResponse } from './types.ts';
import { decodeDescribeGroups, encodeGroups } from './v0.ts';

export const describeGroupsV1 = codec<DescribeGroupsRequest, DescribeGroupsResponse>(
  ApiKey.DescribeGroups,
  1,
  decodeDescribeGroups,
  (e, r) => {
    e.int32(r.throttleTimeMs);
    encodeGroups(e, r);
  },
);
