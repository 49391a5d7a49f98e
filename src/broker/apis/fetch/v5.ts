/** Fetch v5: log_start_offset in each partition of the request and the response. See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeFetchRequest, encodeFetchResponse } from './layout.ts';
import type { FetchRequest, FetchResponse } from './types.ts';

export const fetchV5 = codec<FetchRequest, FetchResponse>(
  ApiKey.Fetch,
  5,
  (d) => decodeFetchRequest(d, 5),
  (e, r) => encodeFetchResponse(e, r, 5),
);
