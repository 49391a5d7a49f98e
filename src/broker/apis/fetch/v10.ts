/** Fetch v10: the v9 layout (zstd allowed in returned batches). See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeFetchRequest, encodeFetchResponse } from './layout.ts';
import type { FetchRequest, FetchResponse } from './types.ts';

export const fetchV10 = codec<FetchRequest, FetchResponse>(
  ApiKey.Fetch,
  10,
  (d) => decodeFetchRequest(d, 10),
  (e, r) => encodeFetchResponse(e, r, 10),
);
