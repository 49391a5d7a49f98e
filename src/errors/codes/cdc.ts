/** Error codes of the PostgreSQL CDC source (`croupier cdc`, src/cdc/postgres). */
export const CDC_ERROR_CODES = [
  /** The CDC source has no database to read: `cdc.postgresUrl` is empty. */
  'CROUPIER_ERR_CDC_CONFIG',
  /** The database refuses logical replication (wal_level, the role's REPLICATION attribute, a missing table). */
  'CROUPIER_ERR_CDC_DATABASE',
  /** A table has no primary key or replica identity that gives its rows' key: the fix is in the message. */
  'CROUPIER_ERR_CDC_NO_KEY',
  /** A contract field has no column, a mapped column disappeared, or its type cannot be mapped to the field. */
  'CROUPIER_ERR_CDC_MAPPING',
  /** The replication stream or the snapshot failed; the source stops (a restart resumes from the slot). */
  'CROUPIER_ERR_CDC_STREAM',
] as const;
