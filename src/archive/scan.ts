/**
 * Reading the archive's names off the file system: the committed files of a topic (or of one partition), and
 * a partition's committed end offset at assignment (by its marker, checked against the files, or by a scan of
 * the names), with the leftovers of a crash removed: files under `+tmp` and files a compaction replaced.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log/logger.ts';
import type { ArchiveFileSystem } from './fs/archive-fs.ts';
import { type ArchiveFile, dayOfDateDir, epochOf, markerPathOf, parseFileName, TMP_DIR } from './layout.ts';
import type { RecordFingerprint } from './log-identity.ts';
import {
  endFromMarker,
  endOfFiles,
  filesOfLastEpoch,
  lastEpochOf,
  markerDirs,
  parseMarker,
  resolvePartitionFiles,
} from './recovery.ts';

/** The files (of one partition, or all) in one `<topic>/date=…/hour=…` directory. */
export async function listHourDir(
  fs: ArchiveFileSystem,
  dir: string,
  partition?: number,
  withSizes = false,
): Promise<ArchiveFile[]> {
  const out: ArchiveFile[] = [];
  for (const entry of await fs.list(dir, withSizes)) {
    if (entry.type !== 'file') continue;
    const name = parseFileName(entry.name);
    if (!name || (partition !== undefined && name.partition !== partition)) continue;
    out.push({ ...name, dir, path: `${dir}/${entry.name}`, bytes: entry.bytes });
  }
  return out;
}

/** Every committed file of a topic (optionally one partition), unordered. */
export async function listTopicFiles(
  fs: ArchiveFileSystem,
  topic: string,
  options: { partition?: number; withSizes?: boolean } = {},
): Promise<ArchiveFile[]> {
  const out: ArchiveFile[] = [];
  for (const date of await fs.list(topic)) {
    if (date.type !== 'dir' || dayOfDateDir(date.name) === null) continue;
    for (const hour of await fs.list(`${topic}/${date.name}`)) {
      if (hour.type !== 'dir' || !/^hour=\d{2}$/.test(hour.name)) continue;
      out.push(
        ...(await listHourDir(
          fs,
          `${topic}/${date.name}/${hour.name}`,
          options.partition,
          options.withSizes,
        )),
      );
    }
  }
  return out;
}

/** The topics present in the archive (directories that are not the archive's own `+…`). */
export async function listTopics(fs: ArchiveFileSystem): Promise<string[]> {
  return (await fs.list(''))
    .filter((e) => e.type === 'dir' && !e.name.startsWith('+'))
    .map((e) => e.name)
    .sort();
}

export interface RecoveredPartition {
  /** The log epoch the archive follows (layout.ts): `end`, `file` and `last` are of its files. */
  epoch: number;
  /** Last committed offset of the epoch; -1 when nothing is archived in it. */
  end: number;
  /** The file holding `end`, when known. */
  file: string | null;
  /** The record at `end`, when the marker holds it (log-identity.ts); null otherwise. */
  last: RecordFingerprint | null;
  /** The marker's text as found (the writer's first commit checks it is unchanged). */
  markerText: string | null;
  /** How the end was found. */
  by: 'marker' | 'scan';
}

/**
 * The committed end of a partition in the log epoch it follows (the marker's, or by a scan the highest among
 * the names), and the crash leftovers of that partition removed (its files under `+tmp`, files inside a
 * compacted file's range). `retentionCutoff`: day (ms) before which date directories are removed by retention.
 */
export async function recoverPartition(
  fs: ArchiveFileSystem,
  topic: string,
  partition: number,
  logger: Logger,
  retentionCutoff = 0,
): Promise<RecoveredPartition> {
  await removeTmpFiles(fs, `${topic}+${partition}+`);
  const markerText = await fs.readText(markerPathOf(topic, partition));
  const marker = markerText === null ? null : parseMarker(markerText, topic, partition);
  if (marker) {
    const listed = (await Promise.all(markerDirs(marker).map((d) => listHourDir(fs, d, partition)))).flat();
    const fileDay = marker.file ? dayOfDateDir(marker.file.split('/')[1] ?? '') : null;
    const expired = fileDay !== null && fileDay < retentionCutoff;
    const end = endFromMarker(marker, listed, expired);
    if (end !== null) {
      await removeSuperseded(fs, listed, logger);
      const epoch = epochOf(marker);
      const file =
        listed.find((f) => epochOf(f) === epoch && f.start <= end && end <= f.end)?.path ??
        (end === marker.endOffset ? marker.file : null);
      const last =
        marker.pending && end === marker.pending.end
          ? (marker.pending.last ?? null)
          : end === marker.endOffset
            ? (marker.last ?? null)
            : null;
      return { epoch, end, file, last: last?.offset === end ? last : null, markerText, by: 'marker' };
    }
    logger.warn({ topic, partition }, 'the partition marker disagrees with the files; scanning the names');
  }
  const files = await listTopicFiles(fs, topic, { partition });
  await removeSuperseded(fs, files, logger);
  const current = resolvePartitionFiles(filesOfLastEpoch(files)).files;
  const end = endOfFiles(current);
  const file = current.find((f) => f.end === end)?.path ?? null;
  // A marker of a later epoch whose first file never landed still counts: its epoch has no files yet.
  const epoch = Math.max(0, lastEpochOf(files), marker ? epochOf(marker) : 0);
  if (epoch > lastEpochOf(files)) return { epoch, end: -1, file: null, last: null, markerText, by: 'scan' };
  return { epoch, end, file, last: null, markerText, by: 'scan' };
}

/**
 * The log epoch after every one the partition's names and marker know: the epoch a new log is archived under.
 * Lists the partition's files (a new log is rare; the names are the truth).
 */
export async function nextEpochOf(
  fs: ArchiveFileSystem,
  topic: string,
  partition: number,
  following: number,
): Promise<number> {
  const files = await listTopicFiles(fs, topic, { partition });
  return Math.max(following, lastEpochOf(files)) + 1;
}

/** Removes files wholly inside another file's range (a compaction stopped before removing them). */
async function removeSuperseded(fs: ArchiveFileSystem, files: readonly ArchiveFile[], logger: Logger) {
  const byPartition = new Map<number, ArchiveFile[]>();
  for (const f of files) byPartition.set(f.partition, [...(byPartition.get(f.partition) ?? []), f]);
  for (const group of byPartition.values()) {
    for (const f of resolvePartitionFiles(group).superseded) {
      logger.info({ path: f.path }, 'removing a file a compaction replaced');
      await fs.remove(f.path);
    }
  }
}

/** Removes files being written (under `+tmp`, and local staging) whose names start with `prefix`. */
export async function removeTmpFiles(fs: ArchiveFileSystem, prefix: string): Promise<void> {
  for (const entry of await fs.list(TMP_DIR)) {
    if (entry.name.startsWith(prefix)) await fs.remove(`${TMP_DIR}/${entry.name}`);
  }
  const staged = await readdir(fs.stagingDir).catch(() => [] as string[]);
  for (const name of staged) {
    if (name.startsWith(prefix)) await rm(path.join(fs.stagingDir, name), { force: true });
  }
}
