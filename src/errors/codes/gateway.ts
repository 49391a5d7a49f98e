/** Error codes of the carousel gateway, its protocol, its event log and the change-feed cache. */
export const GATEWAY_ERROR_CODES = [
  'CROUPIER_ERR_GATEWAY_NATIVE_MISSING',
  'CROUPIER_ERR_GATEWAY_LISTEN',
  'CROUPIER_ERR_GATEWAY_BAD_JSON',
  'CROUPIER_ERR_GATEWAY_BAD_MESSAGE',
  'CROUPIER_ERR_GATEWAY_FRAME_TOO_LARGE',
  'CROUPIER_ERR_GATEWAY_HELLO_REQUIRED',
  'CROUPIER_ERR_GATEWAY_AUTH',
  'CROUPIER_ERR_GATEWAY_RATE_LIMITED',
  'CROUPIER_ERR_GATEWAY_DECISION_FAILED',
  /** A message's handler failed unexpectedly; the connection stays open (a bug: see the gateway's log). */
  'CROUPIER_ERR_GATEWAY_INTERNAL',
  'CROUPIER_ERR_GATEWAY_CONFIG',
  'CROUPIER_ERR_STATE_CACHE_FEED',
] as const;
