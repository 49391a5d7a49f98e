/**
 * Committing a finished file: upload it under `+tmp`, check nobody else committed to the partition since
 * (the marker is as this writer left it), write the marker with the file as `pending` (the first one created
 * only where none is, a later one replaced only under this commit's claim of it: marker-claim.ts), rename the
 * file into place. Every step is retried with backoff while the partition is still this writer's; a rename that
 * answered false is checked (an earlier attempt may have happened after all). The file system is the commit
 * log: what is renamed into place is committed, whatever Kafka's offsets say.
 */
import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CroupierError, hasCode } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import type { ArchiveFileSystem } from './fs/archive-fs.ts';
import { type ArchiveFileName, epochOf, fileNameOf, markerPathOf, TMP_DIR, tmpNameOf } from './layout.ts';
import type { RecordFingerprint } from './log-identity.ts';
import { type MarkerClaimant, replaceMarker } from './marker-claim.ts';
import type { ArchiveMetrics } from './metrics.ts';
import { type Marker, serializeMarker } from './recovery.ts';

const exists = (localPath: string): Promise<boolean> =>
  access(localPath).then(
    () => true,
    () => false,
  );

export interface RetryOptions {
  initialMs: number;
  maxMs: number;
  /** False once the partition is no longer this writer's: retrying stops with CROUPIER_ERR_ARCHIVE_FENCED. */
  live: () => boolean;
  /** Called between attempts (e.g. a consumer heartbeat). */
  onRetry?: () => void;
}

/** Runs `step` until it succeeds, logging and counting each failure; gives up when no longer live. */
export async function retrying<T>(
  what: string,
  step: () => Promise<T>,
  retry: RetryOptions,
  logger: Logger,
  metrics: ArchiveMetrics,
): Promise<T> {
  let wait = retry.initialMs;
  for (let attempt = 1; ; attempt++) {
    if (!retry.live()) {
      throw new CroupierError(
        'CROUPIER_ERR_ARCHIVE_FENCED',
        `stopped trying to ${what}: the partition was revoked`,
      );
    }
    try {
      return await step();
    } catch (error) {
      if (hasCode(error, 'CROUPIER_ERR_ARCHIVE_FENCED')) throw error;
      metrics.failed(error);
      logger.warn({ err: error, attempt, waitMs: wait }, `cannot ${what}; retrying`);
      retry.onRetry?.();
      await sleep(wait);
      wait = Math.min(retry.maxMs, wait * 2);
    }
  }
}

export interface CommitRequest {
  fs: ArchiveFileSystem;
  file: ArchiveFileName;
  /** `<topic>/date=…/hour=…` */
  dir: string;
  /** The finished file in the file system's staging directory. */
  localPath: string;
  bytes: number;
  /** The marker's text as this writer last wrote it (or found it at recovery); null when there was none. */
  markerText: string | null;
  /** The partition's committed end before this file (in the file's log epoch), the file and the record there. */
  committedEnd: number;
  committedFile: string | null;
  committedLast: RecordFingerprint | null;
  /** The file's last record. */
  last: RecordFingerprint;
  /** The Kafka cluster the file's log is of (cluster-lease.ts), or null when not known. */
  cluster: string | null;
  /** The archive consumer committing: a marker is replaced only under its claim (marker-claim.ts). */
  claimant: MarkerClaimant;
  retry: RetryOptions;
  logger: Logger;
  metrics: ArchiveMetrics;
}

/** Commits a file; resolves to the marker's text as it now is on the file system, and the file's path. */
export async function commitFile(request: CommitRequest): Promise<{ markerText: string; path: string }> {
  const { fs, file, dir, retry, logger, metrics } = request;
  const name = fileNameOf(file);
  const finalPath = `${dir}/${name}`;
  const markerPath = markerPathOf(file.topic, file.partition);
  const tmpPath = `${TMP_DIR}/${tmpNameOf(file, randomUUID().slice(0, 8))}`;
  const run = <T>(what: string, step: () => Promise<T>) => retrying(what, step, retry, logger, metrics);

  await run(`upload ${name}`, async () => {
    try {
      await fs.upload(request.localPath, tmpPath);
    } catch (error) {
      // The staged file is gone: another archive consumer took the partition over and removed it as a leftover.
      // No retry can bring it back; the writer is positioned again from the archive.
      if (!(await exists(request.localPath))) {
        throw new CroupierError(
          'CROUPIER_ERR_ARCHIVE_FENCED',
          `the staged file ${request.localPath} of ${file.topic}+${file.partition} was removed (another archive consumer took the partition over)`,
          { topic: file.topic, partition: file.partition },
          { cause: error },
        );
      }
      throw error;
    }
  });
  await run(`create ${dir}`, () => fs.mkdirs(dir));
  const expected = request.markerText;
  await run(`check the marker of ${file.topic}+${file.partition}`, async () => {
    const found = await fs.readText(markerPath);
    if (found !== expected) {
      throw new CroupierError(
        'CROUPIER_ERR_ARCHIVE_FENCED',
        `the marker of ${file.topic}+${file.partition} changed since this archive positioned itself: another archive consumer wrote to the partition`,
        { topic: file.topic, partition: file.partition },
      );
    }
  });
  const pending: Marker = {
    topic: file.topic,
    partition: file.partition,
    epoch: epochOf(file),
    ...(request.cluster === null ? {} : { cluster: request.cluster }),
    endOffset: request.committedEnd,
    file: request.committedFile,
    last: request.committedLast,
    pending: { path: finalPath, start: file.start, end: file.end, last: request.last },
  };
  const markerText = serializeMarker(pending);
  const claim = { token: randomUUID(), holder: request.claimant.holder, cluster: request.cluster };
  await run(`write the marker of ${file.topic}+${file.partition}`, async () => {
    // A later marker replaces the one this writer expects only under its claim, so of two consumers that
    // positioned from one marker (two clusters' archives taking over a stopped one's partition) one commits.
    if (expected !== null)
      return replaceMarker({
        fs,
        markerPath,
        expected,
        next: markerText,
        claim,
        claimant: request.claimant,
        partition: file,
      });
    // The partition's first marker is created only where none is, so of two consumers that both found none
    // (two clusters' archives started at once on an empty directory) one commits and the other is fenced. A
    // marker already there with this text is this commit's own, from an attempt whose answer was lost.
    if (await fs.createText(markerPath, markerText)) return;
    if ((await fs.readText(markerPath)) === markerText) return;
    throw new CroupierError(
      'CROUPIER_ERR_ARCHIVE_FENCED',
      `the marker of ${file.topic}+${file.partition} was created by another archive consumer while this one committed its first file`,
      { topic: file.topic, partition: file.partition },
    );
  });
  await run(`rename ${name} into place`, async () => {
    try {
      await fs.rename(tmpPath, finalPath);
    } catch (error) {
      // An earlier attempt may have been applied although its answer was lost (or said false).
      if (hasCode(error, 'CROUPIER_ERR_ARCHIVE_RENAME')) {
        const [target, source] = await Promise.all([fs.stat(finalPath), fs.stat(tmpPath)]);
        if (target && !source && target.bytes === request.bytes) return;
        if (target && source) {
          throw new CroupierError(
            'CROUPIER_ERR_ARCHIVE_FENCED',
            `${finalPath} exists already: another archive consumer wrote it`,
            {
              path: finalPath,
            },
          );
        }
      }
      throw error;
    }
  });
  metrics.committed(file.end - file.start + 1, request.bytes);
  return { markerText, path: finalPath };
}
