import { apiVersionsV0 } from './v0.ts';
import { apiVersionsV1 } from './v1.ts';
import { apiVersionsV2 } from './v2.ts';
import { apiVersionsV3 } from './v3.ts';

export type * from './types.ts';
export const apiVersionsCodecs = [apiVersionsV0, apiVersionsV1, apiVersionsV2, apiVersionsV3];
