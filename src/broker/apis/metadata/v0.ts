/** Metadata v0: topics (empty = all); brokers without rack; no controller or cluster id. See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeMetadataRequest, encodeMetadataResponse } from './layout.ts';
import type { MetadataRequest, MetadataResponse } from './types.ts';

export const metadataV0 = codec<MetadataRequest, MetadataResponse>(
  ApiKey.Metadata,
  0,
  (d) => decodeMetadataRequest(d, 0),
  (e, r) => encodeMetadataResponse(e, r, 0),
);
