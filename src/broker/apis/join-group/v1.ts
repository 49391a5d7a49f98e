/**
 * JoinGroup v1: rebalance_timeout_ms:INT32 after session_timeout_ms in the request; response as v0.
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import type { Decoder } from '../../protocol/decoder.ts';
import { codec } from '../codec.ts';
import type { JoinGroupRequest, JoinGroupResponse } from './types.ts';
import { decodeProtocols, encodeJoinBody } from './v0.ts';

export function decodeJoinGroupV1(d: Decoder): JoinGroupRequest {
  return {
    groupId: d.string(),
    sessionTimeoutMs: d.int32(),
    rebalanceTimeoutMs: d.int32(),
    memberId: d.string(),
    protocolType: d.string(),
    protocols: decodeProtocols(d),
  };
}

export const joinGroupV1 = codec<JoinGroupRequest, JoinGroupResponse>(
  ApiKey.JoinGroup,
  1,
  decodeJoinGroupV1,
  encodeJoinBody,
);
