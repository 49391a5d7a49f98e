/**
 * The archive's layout: where a file of records lives and what its name says. Pure; every other part of the
 * archive (writer, recovery, ls, verify, compact) reads and writes names through these functions.
 *
 *   <root>/<topic>/date=YYYY-MM-DD/hour=HH/<topic>+<partition>+<startOffset>+<endOffset>.<parquet|avro>
 *   <root>/<topic>/date=YYYY-MM-DD/hour=HH/<topic>+<partition>+e<epoch>+<startOffset>+<endOffset>.<parquet|avro>
 *   <root>/+tmp/…                      files being written (renamed into place when complete)
 *   <root>/+offsets/<topic>/<p>.json   per-partition marker: Kafka cluster id, log epoch, last committed end offset
 *                                      and the record there, the file being committed
 *   <root>/+offsets/<topic>/<p>.claims/…  claims of a marker being replaced (marker-claim.ts)
 *   <root>/+clusters/<cluster>/…       running archive consumers' leases on their cluster (cluster-lease.ts)
 *
 * Offsets are inclusive and zero-padded to 19 digits, so names sort by offset. The hour is the UTC hour of the
 * records' Kafka timestamps, never the wall clock: a replay writes the same names. `+` cannot appear in a Kafka
 * topic name, so `+tmp` and `+offsets` never collide with a topic, and the `+` separators parse unambiguously.
 *
 * A log epoch is one Kafka log of a partition: when the log under the archive starts again (an embedded broker
 * without `broker.dataDir` restarted, the topic made again), its offsets begin again at 0, and the archive
 * writes the new log under the next epoch (log-identity.ts), beside the old log's files and never mixed with
 * them. Epoch 0 (every file written before epochs existed) has no epoch in its name; epoch N > 0 is `e` and
 * 6 digits after the partition, so names sort by partition, epoch, offset (digits sort before `e`). Offsets
 * are only comparable within one epoch: two files of two epochs may hold the same offsets, and are neither
 * duplicates nor overlaps.
 */

export type ArchiveFormat = 'parquet' | 'avro';

export const TMP_DIR = '+tmp';
export const MARKER_DIR = '+offsets';
export const OFFSET_DIGITS = 19;
export const EPOCH_DIGITS = 6;
/** The largest log epoch a name can hold. */
export const MAX_EPOCH = 10 ** EPOCH_DIGITS - 1;
const HOUR_MS = 3_600_000;

/** A committed file as its name describes it. */
export interface ArchiveFileName {
  topic: string;
  partition: number;
  /** First offset held (inclusive). */
  start: number;
  /** Last offset held (inclusive). */
  end: number;
  format: ArchiveFormat;
  /** The Kafka log the offsets belong to (see above); absent: 0. */
  epoch?: number;
}

/** A committed file with where it is: `dir` is `<topic>/date=…/hour=…`, relative to the root. */
export interface ArchiveFile extends ArchiveFileName {
  dir: string;
  /** `dir/name`, relative to the root. */
  path: string;
  bytes: number;
}

export const extensionOf = (format: ArchiveFormat): string => (format === 'avro' ? '.avro' : '.parquet');

export function padOffset(offset: number): string {
  return String(offset).padStart(OFFSET_DIGITS, '0');
}

/** The log epoch of a file (0 when its name has none). */
export const epochOf = (file: { epoch?: number }): number => file.epoch ?? 0;

/** `<topic>+<partition>+<start>+<end>.<ext>`, or `<topic>+<partition>+e<epoch>+<start>+<end>.<ext>` after epoch 0. */
export function fileNameOf(file: ArchiveFileName): string {
  const epoch = epochOf(file);
  if (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH)
    throw new RangeError(`log epoch ${epoch} does not fit in an archive file name (0..${MAX_EPOCH})`);
  const epochPart = epoch === 0 ? '' : `e${String(epoch).padStart(EPOCH_DIGITS, '0')}+`;
  return `${file.topic}+${file.partition}+${epochPart}${padOffset(file.start)}+${padOffset(file.end)}${extensionOf(file.format)}`;
}

const NAME = /^([A-Za-z0-9._-]+)\+(\d+)\+(?:e(\d{6})\+)?(\d{19})\+(\d{19})\.(parquet|avro)$/;

/** The parts of a committed file's name, or null when the name is not one of the archive's. */
export function parseFileName(name: string): ArchiveFileName | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const epoch = m[3] === undefined ? 0 : Number(m[3]);
  const start = Number(m[4]);
  const end = Number(m[5]);
  // Epoch 0 has one name only, the one without an epoch.
  if (end < start || (m[3] !== undefined && epoch === 0)) return null;
  return { topic: m[1], partition: Number(m[2]), start, end, format: m[6] as ArchiveFormat, epoch };
}

/** The first and the last hour a `date=YYYY-MM-DD/hour=HH` directory can name (years 0000 to 9999). */
const FIRST_HOUR_MS = Date.parse('0000-01-01T00:00:00Z');
const LAST_HOUR_MS = Date.parse('9999-12-31T23:00:00Z');

/**
 * The start of the UTC hour holding `timestampMs`. A Kafka timestamp is any int64 the producer chose: one
 * before year 0 or after year 9999 (or not a number) is archived in the first or the last hour a directory
 * can name, so that every record has a directory that `hourOfDir` reads back.
 */
export function hourStartOf(timestampMs: number): number {
  if (!(timestampMs >= FIRST_HOUR_MS)) return FIRST_HOUR_MS;
  if (timestampMs >= LAST_HOUR_MS) return LAST_HOUR_MS;
  return Math.floor(timestampMs / HOUR_MS) * HOUR_MS;
}

/** `date=YYYY-MM-DD/hour=HH` of the UTC hour starting at `hourStart`. */
export function hourPartitionOf(hourStart: number): string {
  const iso = new Date(hourStart).toISOString();
  return `date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

/** `<topic>/date=…/hour=…` of a record time. */
export function hourDirOf(topic: string, timestampMs: number): string {
  return `${topic}/${hourPartitionOf(hourStartOf(timestampMs))}`;
}

/** The start (ms) of the hour a `<topic>/date=…/hour=…` directory holds, or null. */
export function hourOfDir(dir: string): number | null {
  const m = /date=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})$/.exec(dir);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}:00:00Z`);
  return Number.isNaN(ms) ? null : ms;
}

/** The UTC day (ms at 00:00) a `date=YYYY-MM-DD` directory name stands for, or null. */
export function dayOfDateDir(name: string): number | null {
  const m = /^date=(\d{4}-\d{2}-\d{2})$/.exec(name);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}T00:00:00Z`);
  return Number.isNaN(ms) ? null : ms;
}

export function markerPathOf(topic: string, partition: number): string {
  return `${MARKER_DIR}/${topic}/${partition}.json`;
}

/**
 * Committed files in log epoch order, then offset order (then widest first, so a compacted file precedes what it
 * replaced).
 */
export function byOffset(a: ArchiveFileName, b: ArchiveFileName): number {
  return epochOf(a) - epochOf(b) || a.start - b.start || b.end - a.end;
}

/** A name no other writer picks for a file being written under `+tmp`. */
export function tmpNameOf(file: ArchiveFileName, unique: string): string {
  return `${fileNameOf(file)}.${unique}.tmp`;
}

/** Whether `name` is a Kafka topic name the archive can lay out (Kafka's own rule). */
export const isArchivableTopic = (name: string): boolean =>
  /^[A-Za-z0-9._-]{1,249}$/.test(name) && name !== '.' && name !== '..';
