/**
 * Where a partition's archive ends, read from the file names and the partition's marker; never from Kafka's
 * committed offsets. Pure: the adapters list directories and read the marker, these functions decide.
 *
 * A marker (`+offsets/<topic>/<p>.json`) is written before each rename into place: it holds the end offset
 * committed so far and the file about to be committed (`pending`). After a crash, the partition ends at
 * `pending.end` when a file covering it is in place, else at `endOffset`; either is checked against the
 * files of the directory that must hold it, so recovery lists one or two directories instead of the whole
 * partition. A marker that disagrees with the files (or none) sends recovery to the full scan of the names.
 *
 * The marker also names the partition's log epoch (layout.ts; the files it speaks of are that epoch's) and the
 * fingerprint of the record at each end it holds, by which the next positioning tells the log it was written
 * from from a new one (log-identity.ts). Markers of version 1 have neither: epoch 0, no fingerprint.
 */
import { type ArchiveFile, byOffset, epochOf } from './layout.ts';
import { isRecordFingerprint, type RecordFingerprint } from './log-identity.ts';

export interface PendingFile {
  /** Path relative to the root. */
  path: string;
  start: number;
  end: number;
  /** The record at `end`; absent or null when not known. */
  last?: RecordFingerprint | null;
}

export interface Marker {
  topic: string;
  partition: number;
  /** The log epoch of the files it speaks of; absent: 0. */
  epoch?: number;
  /** The id of the Kafka cluster whose log the epoch is (cluster-lease.ts); absent or null: not known. */
  cluster?: string | null;
  /** Last offset held by a committed file; -1 when none. */
  endOffset: number;
  /** Path of the committed file holding `endOffset`, or null. */
  file: string | null;
  /** The record at `endOffset`; absent or null when not known. */
  last?: RecordFingerprint | null;
  /** The file being renamed into place when the marker was written. */
  pending: PendingFile | null;
}

export function serializeMarker(marker: Marker): string {
  return `${JSON.stringify({ version: 2, ...marker })}\n`;
}

const fingerprintOrNull = (value: unknown): RecordFingerprint | null =>
  isRecordFingerprint(value)
    ? { offset: value.offset, timestamp: value.timestamp, sha256: value.sha256 }
    : null;

/**
 * The marker in `text`, or null when it is not one (torn write, unknown version): recovery scans instead. The
 * epoch and fingerprints are read as written (version 1: epoch 0, none).
 */
export function parseMarker(text: string, topic: string, partition: number): Marker | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const m = value as Record<string, unknown>;
  const pending = m.pending as Record<string, unknown> | null | undefined;
  const epoch = m.epoch ?? 0;
  const ok =
    (m.version === 1 || m.version === 2) &&
    Number.isSafeInteger(epoch) &&
    (epoch as number) >= 0 &&
    m.topic === topic &&
    m.partition === partition &&
    Number.isSafeInteger(m.endOffset) &&
    (m.file === null || typeof m.file === 'string') &&
    (pending === null ||
      (typeof pending === 'object' &&
        pending !== undefined &&
        typeof pending.path === 'string' &&
        Number.isSafeInteger(pending.start) &&
        Number.isSafeInteger(pending.end)));
  if (!ok) return null;
  return {
    topic,
    partition,
    epoch: epoch as number,
    ...(typeof m.cluster === 'string' && m.cluster !== '' ? { cluster: m.cluster } : {}),
    endOffset: m.endOffset as number,
    file: m.file as string | null,
    last: fingerprintOrNull(m.last),
    pending: pending
      ? {
          path: pending.path as string,
          start: pending.start as number,
          end: pending.end as number,
          last: fingerprintOrNull(pending.last),
        }
      : null,
  };
}

/** The committed files of one partition, resolved: what a reader should read, and leftovers to remove. */
export interface ResolvedPartition {
  /** In log epoch and offset order, not overlapping within an epoch. */
  files: ArchiveFile[];
  /** Files wholly inside another file's range: left by a compaction that stopped before removing them. */
  superseded: ArchiveFile[];
  /** Pairs of files that overlap without one containing the other: the archive is damaged there. */
  overlaps: [ArchiveFile, ArchiveFile][];
}

/**
 * Resolves the committed files of one partition (any order in, epoch and offset order out). Files of two log
 * epochs never supersede or overlap each other: their offsets belong to two logs.
 */
export function resolvePartitionFiles(files: readonly ArchiveFile[]): ResolvedPartition {
  const sorted = [...files].sort(byOffset);
  const kept: ArchiveFile[] = [];
  const superseded: ArchiveFile[] = [];
  const overlaps: [ArchiveFile, ArchiveFile][] = [];
  for (const file of sorted) {
    const last = kept[kept.length - 1];
    if (last === undefined || epochOf(last) !== epochOf(file) || file.start > last.end) kept.push(file);
    else if (file.end <= last.end) superseded.push(file);
    else {
      overlaps.push([last, file]);
      kept.push(file);
    }
  }
  return { files: kept, superseded, overlaps };
}

/** The last committed offset of resolved files of one epoch; -1 when there are none. */
export const endOfFiles = (files: readonly ArchiveFile[]): number =>
  files.reduce((end, f) => Math.max(end, f.end), -1);

/** The highest log epoch of `files`; -1 when there are none. */
export const lastEpochOf = (files: readonly ArchiveFile[]): number =>
  files.reduce((epoch, f) => Math.max(epoch, epochOf(f)), -1);

/** The files of the highest log epoch among `files` (the log the archive follows now, by the names). */
export function filesOfLastEpoch<F extends ArchiveFile>(files: readonly F[]): F[] {
  const epoch = lastEpochOf(files);
  return files.filter((f) => epochOf(f) === epoch);
}

const covers = (files: readonly ArchiveFile[], offset: number) =>
  files.some((f) => f.start <= offset && offset <= f.end);

/**
 * The partition's end offset by its marker, checked against `listed`: this partition's files in the
 * directories of `marker.file` and `marker.pending` (those of other epochs are not looked at). Null when the
 * files do not bear the marker out (then scan the partition). `fileExpired`: the directory of `marker.file` was
 * removed by retention, so its absence is expected.
 */
export function endFromMarker(
  marker: Marker,
  listedFiles: readonly ArchiveFile[],
  fileExpired = false,
): number | null {
  const epoch = epochOf(marker);
  const listed = listedFiles.filter((f) => epochOf(f) === epoch);
  if (marker.pending && covers(listed, marker.pending.end)) return marker.pending.end;
  if (marker.endOffset < 0) return -1;
  if (covers(listed, marker.endOffset) || fileExpired) return marker.endOffset;
  return null;
}

/** The directories (relative to the root) whose listing `endFromMarker` needs. */
export function markerDirs(marker: Marker): string[] {
  const dirs = new Set<string>();
  for (const path of [marker.file, marker.pending?.path]) {
    if (path) dirs.add(path.slice(0, path.lastIndexOf('/')));
  }
  return [...dirs];
}
