/**
 * DescribeGroups v0
 * Request  => [groups:STRING]
 * Response => [groups => error_code:INT16 group_id:STRING group_state:STRING protocol_type:STRING
 *             protocol_data:STRING [members => member_id:STRING client_id:STRING client_host:STRING
 *               member_metadata:BYTES member_assignment:BYTES]]
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import type { Decoder } from '../../protocol/decoder.ts';
import type { Encoder } from '../../protocol/encoder.ts';
import { codec } from '../codec.ts';
import type { DescribeGroupsRequest, DescribeGroupsResponse } from './types.ts';

export function decodeDescribeGroups(d: Decoder): DescribeGroupsRequest {
  return { groups: d.array((g) => g.string()) };
}

export function encodeGroups(e: Encoder, r: DescribeGroupsResponse): void {
  e.array(r.groups, (e, g) => {
    e.int16(g.errorCode).string(g.groupId).string(g.groupState).string(g.protocolType).string(g.protocolData);
    e.array(g.members, (e, m) => {
      e.string(m.memberId).string(m.clientId).string(m.clientHost);
      e.bytes(m.memberMetadata).bytes(m.memberAssignment);
    });
  });
}

export const describeGroupsV0 = codec<DescribeGroupsRequest, DescribeGroupsResponse>(
  ApiKey.DescribeGroups,
  0,
  decodeDescribeGroups,
  encodeGroups,
);
