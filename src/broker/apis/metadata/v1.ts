/** Metadata v1: nullable topics (null = all), broker rack, controller_id, topic is_internal. See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeMetadataRequest, encodeMetadataResponse } from './layout.ts';
import type { MetadataRequest, MetadataResponse } from './types.ts';

export const metadataV1 = codec<MetadataRequest, MetadataResponse>(
  ApiKey.Metadata,
  1,
  (d) => decodeMetadataRequest(d, 1),
  (e, r) => encodeMetadataResponse(e, r, 1),
);
