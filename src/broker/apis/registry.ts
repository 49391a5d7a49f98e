/** Every codec by API key and version; exactly the advertised ranges (checked by a unit test). */

import { addOffsetsToTxnCodecs } from './add-offsets-to-txn/index.ts';
import { addPartitionsToTxnCodecs } from './add-partitions-to-txn/index.ts';
import { apiVersionsCodecs } from './api-versions/index.ts';
import type { Codec } from './codec.ts';
import { createTopicsCodecs } from './create-topics/index.ts';
import { deleteTopicsCodecs } from './delete-topics/index.ts';
import { describeGroupsCodecs } from './describe-groups/index.ts';
import { endTxnCodecs } from './end-txn/index.ts';
import { fetchCodecs } from './fetch/index.ts';
import { findCoordinatorCodecs } from './find-coordinator/index.ts';
import { heartbeatCodecs } from './heartbeat/index.ts';
import { initProducerIdCodecs } from './init-producer-id/index.ts';
import { joinGroupCodecs } from './join-group/index.ts';
import { leaveGroupCodecs } from './leave-group/index.ts';
import { listGroupsCodecs } from './list-groups/index.ts';
import { listOffsetsCodecs } from './list-offsets/index.ts';
import { metadataCodecs } from './metadata/index.ts';
import { offsetCommitCodecs } from './offset-commit/index.ts';
import { offsetFetchCodecs } from './offset-fetch/index.ts';
import { produceCodecs } from './produce/index.ts';
import { syncGroupCodecs } from './sync-group/index.ts';
import { txnOffsetCommitCodecs } from './txn-offset-commit/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous table; handlers narrow by API key.
type AnyCodec = Codec<any, any>;

export const ALL_CODECS: readonly AnyCodec[] = [
  ...produceCodecs,
  ...fetchCodecs,
  ...listOffsetsCodecs,
  ...metadataCodecs,
  ...offsetCommitCodecs,
  ...offsetFetchCodecs,
  ...findCoordinatorCodecs,
  ...joinGroupCodecs,
  ...heartbeatCodecs,
  ...leaveGroupCodecs,
  ...syncGroupCodecs,
  ...describeGroupsCodecs,
  ...listGroupsCodecs,
  ...apiVersionsCodecs,
  ...createTopicsCodecs,
  ...deleteTopicsCodecs,
  ...initProducerIdCodecs,
  ...addPartitionsToTxnCodecs,
  ...addOffsetsToTxnCodecs,
  ...endTxnCodecs,
  ...txnOffsetCommitCodecs,
];

const TABLE: (AnyCodec | undefined)[][] = [];
for (const c of ALL_CODECS) {
  const row = TABLE[c.apiKey] ?? [];
  row[c.version] = c;
  TABLE[c.apiKey] = row;
}

export function findCodec(apiKey: number, version: number): AnyCodec | undefined {
  if (apiKey < 0 || version < 0) return undefined;
  return TABLE[apiKey]?.[version];
}

export function isKnownApiKey(apiKey: number): boolean {
  return apiKey >= 0 && TABLE[apiKey] !== undefined;
}
