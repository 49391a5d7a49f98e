/** Fetch v4: isolation_level and last_stable_offset/aborted_transactions (the base layout here). See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeFetchRequest, encodeFetchResponse } from './layout.ts';
import type { FetchRequest, FetchResponse } from './types.ts';

export const fetchV4 = codec<FetchRequest, FetchResponse>(
  ApiKey.Fetch,
  4,
  (d) => decodeFetchRequest(d, 4),
  (e, r) => encodeFetchResponse(e, r, 4),
);
