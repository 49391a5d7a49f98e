/** Fetch v9: current_leader_epoch in each request partition. See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeFetchRequest, encodeFetchResponse } from './layout.ts';
import type { FetchRequest, FetchResponse } from './types.ts';

export const fetchV9 = codec<FetchRequest, FetchResponse>(
  ApiKey.Fetch,
  9,
  (d) => decodeFetchRequest(d, 9),
  (e, r) => encodeFetchResponse(e, r, 9),
);
