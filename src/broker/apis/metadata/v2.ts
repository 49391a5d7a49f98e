/** Metadata v2: cluster_id in the response. See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeMetadataRequest, encodeMetadataResponse } from './layout.ts';
import type { MetadataRequest, MetadataResponse } from './types.ts';

export const metadataV2 = codec<MetadataRequest, MetadataResponse>(
  ApiKey.Metadata,
  2,
  (d) => decodeMetadataRequest(d, 2),
  (e, r) => encodeMetadataResponse(e, r, 2),
);
