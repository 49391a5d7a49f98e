/** Fetch v11: rack_id in the request, preferred_read_replica in each response partition. See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeFetchRequest, encodeFetchResponse } from './layout.ts';
import type { FetchRequest, FetchResponse } from './types.ts';

export const fetchV11 = codec<FetchRequest, FetchResponse>(
  ApiKey.Fetch,
  11,
  (d) => decodeFetchRequest(d, 11),
  (e, r) => encodeFetchResponse(e, r, 11),
);
