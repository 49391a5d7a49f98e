/** Metadata v4: allow_auto_topic_creation in the request. See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeMetadataRequest, encodeMetadataResponse } from './layout.ts';
import type { MetadataRequest, MetadataResponse } from './types.ts';

export const metadataV4 = codec<MetadataRequest, MetadataResponse>(
  ApiKey.Metadata,
  4,
  (d) => decodeMetadataRequest(d, 4),
  (e, r) => encodeMetadataResponse(e, r, 4),
);
