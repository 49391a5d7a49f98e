import { listOffsetsV1 } from './v1.ts';
import { listOffsetsV2 } from './v2.ts';

export type * from './types.ts';
export const listOffsetsCodecs = [listOffsetsV1, listOffsetsV2];
