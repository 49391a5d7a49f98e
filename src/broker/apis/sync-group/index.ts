import { syncGroupV0 } from './v0.ts';
import { syncGroupV1 } from './v1.ts';

export type * from './types.ts';
export const syncGroupCodecs = [syncGroupV0, syncGroupV1];
