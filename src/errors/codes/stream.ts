/** Error codes of the stream topology: refused input records (dead-lettered) and the Redis state scripts. */
export const STREAM_ERROR_CODES = [
  /** A record has no value (a null or empty payload) where an event was expected. */
  'CROUPIER_ERR_STREAM_EMPTY_RECORD',
  /** A record decoded to a schema that does not belong on its topic (e.g. an ItemChange on the clickstream). */
  'CROUPIER_ERR_STREAM_WRONG_SCHEMA',
  /**
   * A record batch could not be decoded (corrupt, compressed with a codec Kafka does not define, or over the
   * decompression limit): the batch's bytes were dead-lettered and its offsets skipped.
   */
  'CROUPIER_ERR_STREAM_UNDECODABLE_BATCH',
  /** A required field is missing, null or empty. */
  'CROUPIER_ERR_STREAM_MISSING_FIELD',
  /** A field holds a value outside its range (negative watch time or value, slot < 0, propensity not in (0, 1]...). */
  'CROUPIER_ERR_STREAM_OUT_OF_RANGE',
  /** An identifier (userId, itemId, requestId) contains `|`, which the Redis state layout reserves as separator. */
  'CROUPIER_ERR_STREAM_BAD_ID',
  /** A change event carries neither a `before` nor an `after` row. */
  'CROUPIER_ERR_STREAM_CDC_EMPTY',
  /** A change event is inconsistent: unknown op, or a create/update/read without an `after` row. */
  'CROUPIER_ERR_STREAM_CDC_INVALID',
  /** A state script got a payload it cannot read: a bug in croupier, never in the input. */
  'CROUPIER_ERR_STREAM_SCRIPT_PAYLOAD',
  /** A record made its partition's state script fail on every try; it was dead-lettered so the partition goes on. */
  'CROUPIER_ERR_STREAM_APPLY_FAILED',
  /** A user's or request's key holds another Redis type (something else wrote it); the script wrote nothing. */
  'CROUPIER_ERR_STREAM_STATE_KEY_TYPE',
  /** A partition's state key holds another Redis type; the script wrote nothing and the partition waits. */
  'CROUPIER_ERR_STREAM_PARTITION_KEY_TYPE',
  /** The stored offset of a partition in Redis is not a number: the offsets hash was written by something else. */
  'CROUPIER_ERR_STREAM_OFFSET_CORRUPT',
  /** A state script returned a code croupier does not know (scripts and code from different versions). */
  'CROUPIER_ERR_STREAM_SCRIPT_CODE',
  /** A Lua script file cannot be read or names an include that does not exist. */
  'CROUPIER_ERR_STREAM_SCRIPT_SOURCE',
  /** The stream topology options are invalid. */
  'CROUPIER_ERR_STREAM_OPTIONS',
] as const;
