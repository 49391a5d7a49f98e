/** DescribeGroups v2: the v1 layout (throttling semantics). */
import { sameLayout } from '../codec.ts';
import { describeGroupsV1 } from './v1.ts';

export const describeGroupsV2 = sameLayout(describeGroupsV1, 2);
