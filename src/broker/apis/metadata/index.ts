import { metadataV0 } from './v0.ts';
import { metadataV1 } from './v1.ts';
import { metadataV2 } from './v2.ts';
import { metadataV3 } from './v3.ts';
import { metadataV4 } from './v4.ts';

export type * from './types.ts';
export const metadataCodecs = [metadataV0, metadataV1, metadataV2, metadataV3, metadataV4];
