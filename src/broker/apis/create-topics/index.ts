import { createTopicsV0 } from './v0.ts';
import { createTopicsV1 } from './v1.ts';
import { createTopicsV2 } from './v2.ts';
import { createTopicsV3 } from './v3.ts';

export type * from './types.ts';
export const createTopicsCodecs = [createTopicsV0, createTopicsV1, createTopicsV2, createTopicsV3];
