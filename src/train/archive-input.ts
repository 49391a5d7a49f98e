/**
 * What a training run reads from the archive: the clickstream files whose hours can hold the window's
 * carousels and their outcomes, each with a local path to read (a copy when the archive is on HDFS) and its
 * lineage facts (name, bytes, sha256 of the content, partition and offset range).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { ArchiveFileSystem } from '../archive/fs/archive-fs.ts';
import { byOffset, hourOfDir } from '../archive/layout.ts';
import { listTopicFiles } from '../archive/scan.ts';

export const CLICKSTREAM_TOPIC = 'clickstream';
const HOUR_MS = 3_600_000;

/** One archive file a training set was built from. */
export interface InputFile {
  /** Path relative to the archive's root. */
  path: string;
  partition: number;
  /** First and last Kafka offset the file holds (inclusive). */
  startOffset: number;
  endOffset: number;
  bytes: number;
  sha256: string;
}

/** The archive files of a run, with where to read them locally. */
export interface ArchiveInput {
  location: string;
  files: InputFile[];
  localPaths: string[];
  /** Removes the local copies made for a remote archive. */
  release(): Promise<void>;
}

/** Which hours to read: null bounds read everything. */
export interface InputWindow {
  fromMs: number | null;
  toMs: number | null;
  attributionWindowMs: number;
  /** Hash each file's content for the lineage (default true); a count that keeps no lineage skips it. */
  hash?: boolean;
}

async function sha256Of(localPath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(localPath)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Whether an hour directory can hold records of the window: carousels in [from, to) and outcomes up to the
 * attribution window after `to`. An hour before `from` is kept too (Kafka's timestamp may lag the event's).
 */
export function hourInWindow(hourStart: number, window: InputWindow): boolean {
  if (window.fromMs !== null && hourStart + HOUR_MS <= window.fromMs - HOUR_MS) return false;
  if (window.toMs !== null && hourStart > window.toMs + window.attributionWindowMs) return false;
  return true;
}

/** Lists, copies (when remote) and hashes the clickstream files the window needs, in partition and offset order. */
export async function openArchiveInput(fs: ArchiveFileSystem, window: InputWindow): Promise<ArchiveInput> {
  const all = await listTopicFiles(fs, CLICKSTREAM_TOPIC, { withSizes: true });
  const chosen = all
    .filter((file) => file.format === 'parquet')
    .filter((file) => {
      const hour = hourOfDir(file.dir);
      return hour !== null && hourInWindow(hour, window);
    })
    .sort((a, b) => a.partition - b.partition || byOffset(a, b));
  const files: InputFile[] = [];
  const localPaths: string[] = [];
  const copies: string[] = [];
  try {
    for (const file of chosen) {
      const { localPath, copied } = await fs.localCopy(file.path);
      if (copied) copies.push(localPath);
      localPaths.push(localPath);
      files.push({
        path: file.path,
        partition: file.partition,
        startOffset: file.start,
        endOffset: file.end,
        bytes: file.bytes,
        sha256: window.hash === false ? '' : await sha256Of(localPath),
      });
    }
  } catch (error) {
    await Promise.all(copies.map((p) => rm(p, { force: true })));
    throw error;
  }
  return {
    location: fs.location,
    files,
    localPaths,
    release: async () => {
      await Promise.all(copies.map((p) => rm(p, { force: true })));
    },
  };
}

/** Per partition, the lowest and highest offset of the files read. */
export function offsetRanges(
  files: readonly InputFile[],
): { partition: number; start: number; end: number }[] {
  const ranges = new Map<number, { partition: number; start: number; end: number }>();
  for (const file of files) {
    const range = ranges.get(file.partition);
    if (range === undefined) {
      ranges.set(file.partition, { partition: file.partition, start: file.startOffset, end: file.endOffset });
    } else {
      range.start = Math.min(range.start, file.startOffset);
      range.end = Math.max(range.end, file.endOffset);
    }
  }
  return [...ranges.values()].sort((a, b) => a.partition - b.partition);
}
