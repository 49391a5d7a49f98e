import { describeGroupsV0 } from './v0.ts';
import { describeGroupsV1 } from './v1.ts';
import { describeGroupsV2 } from './v2.ts';

export type * from './types.ts';
export const describeGroupsCodecs = [describeGroupsV0, describeGroupsV1, describeGroupsV2];
