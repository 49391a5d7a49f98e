/** Fetch v6: the v5 layout (KAFKA_STORAGE_ERROR semantics). See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeFetchRequest, encodeFetchResponse } from './layout.ts';
import type { FetchRequest, FetchResponse } from './types.ts';

export const fetchV6 = codec<FetchRequest, FetchResponse>(
  ApiKey.Fetch,
  6,
  (d) => decodeFetchRequest(d, 6),
  (e, r) => encodeFetchResponse(e, r, 6),
);
