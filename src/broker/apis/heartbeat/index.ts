import { heartbeatV0 } from './v0.ts';
import { heartbeatV1 } from './v1.ts';

export type * from './types.ts';
export const heartbeatCodecs = [heartbeatV0, heartbeatV1];
