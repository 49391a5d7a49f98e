/** ApiVersions: the advertised version range of every API key (also the UNSUPPORTED_VERSION answer). */
import type { ApiVersionsResponse } from '../apis/api-versions/types.ts';
import { ADVERTISED } from '../protocol/api-keys.ts';

export function handleApiVersions(errorCode: number): ApiVersionsResponse {
  return { errorCode, apiKeys: ADVERTISED.map((a) => ({ ...a })), throttleTimeMs: 0 };
}
