/**
 * ApiVersions v3 (flexible: request header v2; the response header stays v0 for ApiVersions)
 * Request  => client_software_name:COMPACT_STRING client_software_version:COMPACT_STRING TAG_BUFFER
 * Response => error_code:INT16 [api_keys => api_key:INT16 min_version:INT16 max_version:INT16 TAG_BUFFER]
 *             (COMPACT_ARRAY) throttle_time_ms:INT32 TAG_BUFFER (no supported/finalized features sent)
 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { ApiVersionsRequest, ApiVersionsResponse } from './types.ts';

export const apiVersionsV3 = codec<ApiVersionsRequest, ApiVersionsResponse>(
  ApiKey.ApiVersions,
  3,
  (d) => {
    const clientSoftwareName = d.compactString();
    const clientSoftwareVersion = d.compactString();
    d.taggedFields();
    return { clientSoftwareName, clientSoftwareVersion };
  },
  (e, r) => {
    e.int16(r.errorCode);
    e.compactArray(r.apiKeys, (e, k) => {
      e.int16(k.apiKey).int16(k.minVersion).int16(k.maxVersion).emptyTaggedFields();
    });
    e.int32(r.throttleTimeMs).emptyTaggedFields();
  },
  true,
);
