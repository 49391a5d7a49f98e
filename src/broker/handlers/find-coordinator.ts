/** FindCoordinator: this broker coordinates every group (key type 0) and transactional id (key type 1). */
import type { FindCoordinatorRequest, FindCoordinatorResponse } from '../apis/find-coordinator/types.ts';
import type { BrokerState } from '../broker-state.ts';
import { ErrorCode } from '../protocol/error-codes.ts';

export function handleFindCoordinator(
  broker: BrokerState,
  req: FindCoordinatorRequest,
): FindCoordinatorResponse {
  const ok = req.keyType === 0 || req.keyType === 1;
  return {
    throttleTimeMs: 0,
    errorCode: ok ? ErrorCode.NONE : ErrorCode.INVALID_REQUEST,
    errorMessage: ok ? null : `unknown key type ${req.keyType}`,
    nodeId: ok ? broker.config.nodeId : -1,
    host: ok ? broker.config.advertisedHost : '',
    port: ok ? broker.config.advertisedPort : -1,
  };
}
