/**
 * ApiVersions v0
 * Request  => (empty)
 * Response => error_code:INT16 [api_keys => api_key:INT16 min_version:INT16 max_version:INT16]
 * Also the body of the UNSUPPORTED_VERSION answer to an ApiVersions version we do not know.
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import type { Encoder } from '../../protocol/encoder.ts';
import { codec } from '../codec.ts';
import type { ApiVersionsRequest, ApiVersionsResponse } from './types.ts';

export function encodeApiKeys(e: Encoder, r: ApiVersionsResponse): void {
  e.int16(r.errorCode);
  e.array(r.apiKeys, (e, k) => e.int16(k.apiKey).int16(k.minVersion).int16(k.maxVersion));
}

export const apiVersionsV0 = codec<ApiVersionsRequest, ApiVersionsResponse>(
  ApiKey.ApiVersions,
  0,
  () => ({ clientSoftwareName: '', clientSoftwareVersion: '' }),
  encodeApiKeys,
);
