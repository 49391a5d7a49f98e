/** ApiVersions v1: empty request; response => v0 fields then throttle_time_ms:INT32 */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import type { ApiVersionsRequest, ApiVersionsResponse } from './types.ts';
import { encodeApiKeys } from './v0.ts';

export const apiVersionsV1 = codec<ApiVersionsRequest, ApiVersionsResponse>(
  ApiKey.ApiVersions,
  1,
  () => ({ clientSoftwareName: '', clientSoftwareVersion: '' }),
  (e, r) => {
    encodeApiKeys(e, r);
    e.int32(r.throttleTimeMs);
  },
);
