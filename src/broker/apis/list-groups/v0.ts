/**
 * ListGroups v0
 * Request  => (empty)
 * Response => error_code:INT16 [groups => group_id:STRING protocol_type:STRING]
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import type { Encoder } from '../../protocol/encoder.ts';
import { codec } from '../codec.ts';
import type { ListGroupsRequest, ListGroupsResponse } from './types.ts';

export function encodeListGroupsBody(e: Encoder, r: ListGroupsResponse): void {
  e.int16(r.errorCode);
  e.array(r.groups, (e, g) => e.string(g.groupId).string(g.protocolType));
}

export const listGroupsV0 = codec<ListGroupsRequest, ListGroupsResponse>(
  ApiKey.ListGroups,
  0,
  () => ({}),
  encodeListGroupsBody,
);
