import { leaveGroupV0 } from './v0.ts';
import { leaveGroupV1 } from './v1.ts';

export type * from './types.ts';
export const leaveGroupCodecs = [leaveGroupV0, leaveGroupV1];
