/** Error codes of the schema registry (embedded server and client side) and the Avro event codec. */
export const REGISTRY_ERROR_CODES = [
  /** The persisted registry state in the data directory cannot be read or parsed. */
  'CROUPIER_ERR_REGISTRY_DATA',
  /** The schema registry did not answer (network error, timeout, 5xx). Transient: retry, never dead-letter. */
  'CROUPIER_ERR_REGISTRY_UNAVAILABLE',
  /** The schema registry refused a request: an incompatible or invalid schema, a bad subject. */
  'CROUPIER_ERR_REGISTRY_REJECTED',
  /** A record does not start with the Confluent wire-format header (magic byte 0 + 4-byte schema id). */
  'CROUPIER_ERR_SERDE_MAGIC',
  /** A record names a schema id the registry does not know, or a schema that is not one of croupier's contracts. */
  'CROUPIER_ERR_SERDE_UNKNOWN_SCHEMA',
  /**
   * The writer's schema cannot be read as croupier's contract of the same name (incompatible evolution), or it has
   * an array whose items take no bytes (a record could say it holds any number of them).
   */
  'CROUPIER_ERR_SERDE_INCOMPATIBLE',
  /** A record's Avro body is truncated, has trailing bytes or is otherwise unreadable with its writer schema. */
  'CROUPIER_ERR_SERDE_DECODE',
  /** A value does not match the schema it is encoded with. */
  'CROUPIER_ERR_SERDE_ENCODE',
] as const;
