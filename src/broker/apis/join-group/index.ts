import { joinGroupV0 } from './v0.ts';
import { joinGroupV1 } from './v1.ts';
import { joinGroupV2 } from './v2.ts';

export type * from './types.ts';
export const joinGroupCodecs = [joinGroupV0, joinGroupV1, joinGroupV2];
