/** ApiVersions v2: the v1 layout. */
import { sameLayout } from '../codec.ts';
import { apiVersionsV1 } from './v1.ts';

export const apiVersionsV2 = sameLayout(apiVersionsV1, 2);
