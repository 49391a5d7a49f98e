/** Metadata v3: throttle_time_ms first in the response. See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeMetadataRequest, encodeMetadataResponse } from './layout.ts';
import type { MetadataRequest, MetadataResponse } from './types.ts';

export const metadataV3 = codec<MetadataRequest, MetadataResponse>(
  ApiKey.Metadata,
  3,
  (d) => decodeMetadataRequest(d, 3),
  (e, r) => encodeMetadataResponse(e, r, 3),
);
