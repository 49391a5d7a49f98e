/** Error codes of retraining (`croupier train`), the model registry's versions and promotions, and scheduled jobs. */
export const TRAIN_ERROR_CODES = [
  /** The archive holds no usable training data in the window (no carousels, or none with feature rows). */
  'CROUPIER_ERR_TRAIN_NO_DATA',
  /** The training-set query failed in the SQL engine (the message carries the engine's text). */
  'CROUPIER_ERR_TRAIN_QUERY',
  /** A training option is out of range or inconsistent (the message names it). */
  'CROUPIER_ERR_TRAIN_OPTION',
  /** ONNX Runtime's predictions of an exported model differ from the trainer's beyond the tolerance. */
  'CROUPIER_ERR_TRAIN_PARITY',
  /** A model version named on the command line (or by model.shadowVersion) is not in the registry. */
  'CROUPIER_ERR_MODEL_VERSION_UNKNOWN',
  /** A promotion or rollback cannot happen (the gate refused it, or there is nothing to roll back to). */
  'CROUPIER_ERR_MODEL_PROMOTION',
  /** A job named on the command line is not one croupier schedules. */
  'CROUPIER_ERR_JOB_UNKNOWN',
  /** Another instance holds the lease of the job run asked for. */
  'CROUPIER_ERR_JOB_BUSY',
  /** A job run asked for an interval that has not ended by Redis's clock (the clock the run ledger trusts). */
  'CROUPIER_ERR_JOB_NOT_DUE',
] as const;
