/** Error codes of the archive: its file systems (local, WebHDFS), its files and what `verify` finds. */
export const ARCHIVE_ERROR_CODES = [
  /** `archive.uri` names neither a directory nor a webhdfs:// / swebhdfs:// URL croupier can use. */
  'CROUPIER_ERR_ARCHIVE_URI',
  /** The WebHDFS namenode or datanode answered with a RemoteException (the message carries its text). */
  'CROUPIER_ERR_ARCHIVE_HDFS',
  /** The WebHDFS namenode or datanode could not be reached or did not answer in time. */
  'CROUPIER_ERR_ARCHIVE_HDFS_UNAVAILABLE',
  /** A rename into place did not happen (WebHDFS `{"boolean": false}`, or the target exists). */
  'CROUPIER_ERR_ARCHIVE_RENAME',
  /** A local file-system operation of the archive failed. */
  'CROUPIER_ERR_ARCHIVE_IO',
  /** A topic's contracts cannot be laid out as one table (two fields of one name with different types...). */
  'CROUPIER_ERR_ARCHIVE_SCHEMA',
  /** Committed files of a partition overlap, so its committed end offset cannot be told from the names. */
  'CROUPIER_ERR_ARCHIVE_OVERLAP',
  /** Another archive consumer committed to this partition since this one positioned itself (fenced). */
  'CROUPIER_ERR_ARCHIVE_FENCED',
  /** An archive file cannot be read, or holds other offsets than its name claims. */
  'CROUPIER_ERR_ARCHIVE_FILE',
  /**
   * A record batch the archive's consumer could not decode (corrupt bytes, an unknown codec, a decompression
   * bomb): kept as one undecodable row at the batch's last offset, with the batch's bytes in `_raw`.
   */
  'CROUPIER_ERR_ARCHIVE_UNDECODABLE_BATCH',
  /**
   * A partition's Kafka log is not the one the archive's files were written from: it ends before the archived
   * offsets, or holds another record at the archived end (an embedded broker without `broker.dataDir` restarted, or
   * the topic was made again). Not an error of the archive: the new log is archived from its start under the next
   * log epoch, beside the old files; counted once per epoch started.
   */
  'CROUPIER_ERR_ARCHIVE_LOG_RESTARTED',
  /**
   * A partition's marker names another Kafka cluster whose archive still runs on the same archive directory (its
   * lease under `+clusters` beaten within `archive.clusterLeaseMs`): the partition waits until that archive stops.
   * Two clusters need two archive directories.
   */
  'CROUPIER_ERR_ARCHIVE_OTHER_CLUSTER',
  /** `croupier archive verify` found something wrong (the message lists what). */
  'CROUPIER_ERR_ARCHIVE_VERIFY',
] as const;
