/** Error codes of the embedded Kafka-protocol broker. */
export const BROKER_ERROR_CODES = [
  'CROUPIER_ERR_BROKER_LISTEN',
  'CROUPIER_ERR_BROKER_DATA_DIR',
  'CROUPIER_ERR_BROKER_OPTIONS',
] as const;
