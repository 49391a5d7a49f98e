/**
 * JoinGroup v0
 * Request  => group_id:STRING session_timeout_ms:INT32 member_id:STRING protocol_type:STRING
 *             [protocols => name:STRING metadata:BYTES]
 * Response => error_code:INT16 generation_id:INT32 protocol_name:STRING leader:STRING member_id:STRING
 *             [members => member_id:STRING metadata:BYTES]
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import type { Decoder } from '../../protocol/decoder.ts';
import type { Encoder } from '../../protocol/encoder.ts';
import { codec } from '../codec.ts';
import type { JoinGroupRequest, JoinGroupResponse } from './types.ts';

export function decodeProtocols(d: Decoder): JoinGroupRequest['protocols'] {
  return d.array((p) => ({ name: p.string(), metadata: Buffer.from(p.bytes()) }));
}

export function encodeJoinBody(e: Encoder, r: JoinGroupResponse): void {
  e.int16(r.errorCode).int32(r.generationId).string(r.protocolName).string(r.leader).string(r.memberId);
  e.array(r.members, (e, m) => e.string(m.memberId).bytes(m.metadata));
}

export const joinGroupV0 = codec<JoinGroupRequest, JoinGroupResponse>(
  ApiKey.JoinGroup,
  0,
  (d) => {
    const groupId = d.string();
    const sessionTimeoutMs = d.int32();
    return {
      groupId,
      sessionTimeoutMs,
      rebalanceTimeoutMs: sessionTimeoutMs,
      memberId: d.string(),
      protocolType: d.string(),
      protocols: decodeProtocols(d),
    };
  },
  encodeJoinBody,
);
