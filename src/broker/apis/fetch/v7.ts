/** Fetch v7: fetch sessions (session_id, session_epoch, forgotten_topics_data; top-level error_code, session_id). See layout.ts for the fields. */
import { ApiKey } from '../../protocol/api-keys.ts';
import { codec } from '../codec.ts';
import { decodeFetchRequest, encodeFetchResponse } from './layout.ts';
import type { FetchRequest, FetchResponse } from './types.ts';

export const fetchV7 = codec<FetchRequest, FetchResponse>(
  ApiKey.Fetch,
  7,
  (d) => decodeFetchRequest(d, 7),
  (e, r) => encodeFetchResponse(e, r, 7),
);
