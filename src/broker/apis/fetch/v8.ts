/** Fetch v8: the v7 layout (throttling semantics). See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeFetchRequest, encodeFetchResponse } from './layout.ts';
import type { FetchRequest, FetchResponse } from './types.ts';

export const fetchV8 = codec<FetchRequest, FetchResponse>(
  ApiKey.Fetch,
  8,
  (d) => decodeFetchRequest(d, 8),
  (e, r) => encodeFetchResponse(e, r, 8),
);
