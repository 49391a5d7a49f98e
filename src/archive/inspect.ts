/**
 * `croupier archive ls` and `croupier archive verify`: what the archive holds, and whether it holds it right.
 *
 * verify checks that every file is readable; that in every partition the ranges do not overlap (files a
 * compaction replaced count as leftovers); that the offsets inside each file are those its name claims
 * (first = start, last = end, strictly increasing, metadata agrees); and, with Kafka, that nothing is
 * missing: a gap between files (or before the first, from Kafka's log start) is only allowed where Kafka
 * returns no record in it — offsets of transaction control records and aborted records are legitimately
 * absent. Records after the last file are reported as lag, not as missing.
 *
 * Offsets are compared within one log epoch (layout.ts): files of two epochs that hold the same offsets are
 * neither overlaps nor duplicates, and only the epoch the archive follows now (its marker's, or the highest among
 * the names) is compared with Kafka: the logs of the earlier ones are gone.
 */

import { rm } from 'node:fs/promises';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { Kafka } from 'kafkajs';
import { CroupierError } from '../errors/index.ts';
import { readFileFacts } from './format/file-reader.ts';
import type { ArchiveFileSystem } from './fs/archive-fs.ts';
import { type ArchiveFile, epochOf, markerPathOf } from './layout.ts';
import { lastEpochOf, parseMarker, resolvePartitionFiles } from './recovery.ts';
import { listTopicFiles, listTopics } from './scan.ts';

export interface PartitionListing {
  topic: string;
  partition: number;
  /** The log epoch (layout.ts) the ranges are offsets of: one listing per partition and epoch. */
  epoch: number;
  files: number;
  /** Offset ranges covered, merged where consecutive files touch. */
  ranges: [number, number][];
  rows: number;
  bytes: number;
}

/** The archive's topics and partitions (and log epochs) with their offset ranges, files, rows and bytes. */
export async function listArchive(
  fs: ArchiveFileSystem,
  duckdb: DuckDBInstance,
  options: { topics?: readonly string[]; rows?: boolean } = {},
): Promise<PartitionListing[]> {
  const out: PartitionListing[] = [];
  for (const topic of options.topics ?? (await listTopics(fs))) {
    const files = await listTopicFiles(fs, topic, { withSizes: true });
    for (const [partition, group] of byPartition(files)) {
      const resolved = resolvePartitionFiles(group).files;
      for (const epoch of new Set(resolved.map(epochOf))) {
        const kept = resolved.filter((f) => epochOf(f) === epoch);
        const ranges: [number, number][] = [];
        for (const f of kept) {
          const last = ranges[ranges.length - 1];
          if (last && last[1] + 1 === f.start) last[1] = f.end;
          else ranges.push([f.start, f.end]);
        }
        let rows = 0;
        if (options.rows !== false) {
          for (const f of kept) rows += (await rowsOf(fs, duckdb, f)).rows;
        }
        out.push({
          topic,
          partition,
          epoch,
          files: kept.length,
          ranges,
          rows,
          bytes: kept.reduce((s, f) => s + f.bytes, 0),
        });
      }
    }
  }
  return out;
}

export interface VerifyReport {
  files: number;
  rows: number;
  problems: string[];
  /** Records in Kafka after the last archived offset, per partition (not a problem: the archive is behind). */
  lag: Record<string, number>;
  kafkaChecked: boolean;
}

/** Checks the archive; `kafka` (optional) to compare with the log start and end offsets. */
export async function verifyArchive(
  fs: ArchiveFileSystem,
  duckdb: DuckDBInstance,
  options: { kafka?: Kafka; topics?: readonly string[] } = {},
): Promise<VerifyReport> {
  const report: VerifyReport = {
    files: 0,
    rows: 0,
    problems: [],
    lag: {},
    kafkaChecked: options.kafka !== undefined,
  };
  const topics = options.topics ?? (await listTopics(fs));
  const admin = options.kafka?.admin();
  await admin?.connect().catch((error: unknown) => {
    throw new CroupierError(
      'CROUPIER_ERR_ARCHIVE_VERIFY',
      `cannot reach Kafka to compare the archive with it (${(error as Error).message}): start the broker, or pass its address with --set kafka.brokers=host:port, or leave kafka.brokers empty to check the files alone`,
      {},
      { cause: error },
    );
  });
  try {
    for (const topic of topics) {
      const files = await listTopicFiles(fs, topic, { withSizes: true });
      const partitions = byPartition(files);
      const kafkaOffsets = admin ? await admin.fetchTopicOffsets(topic).catch(() => []) : [];
      for (const o of kafkaOffsets) if (!partitions.has(o.partition)) partitions.set(o.partition, []);
      for (const [partition, group] of partitions) {
        const where = `${topic}+${partition}`;
        const resolved = resolvePartitionFiles(group);
        for (const f of resolved.superseded)
          report.problems.push(
            `${f.path}: inside the range of another file (a compaction left it; run croupier archive compact)`,
          );
        for (const [x, y] of resolved.overlaps)
          report.problems.push(`${where}: ${x.path} and ${y.path} overlap`);
        for (const f of resolved.files) {
          report.files++;
          try {
            const facts = await factsOf(fs, duckdb, f);
            report.rows += facts.rows;
            const wrong: string[] = [];
            if (facts.minOffset !== f.start || facts.maxOffset !== f.end)
              wrong.push(
                `holds offsets ${facts.minOffset}..${facts.maxOffset}, its name says ${f.start}..${f.end}`,
              );
            if (facts.distinctOffsets !== facts.rows || !facts.ordered)
              wrong.push('offsets repeat or go back');
            const m = facts.metadata;
            if (
              m['croupier.topic'] !== topic ||
              m['croupier.partition'] !== String(partition) ||
              m['croupier.startOffset'] !== String(f.start) ||
              m['croupier.endOffset'] !== String(f.end)
            )
              wrong.push('its metadata names another topic, partition or range');
            for (const w of wrong) report.problems.push(`${f.path}: ${w}`);
          } catch (error) {
            report.problems.push(`${f.path}: unreadable (${(error as Error).message})`);
          }
        }
        const kafka = kafkaOffsets.find((o) => o.partition === partition);
        if (!kafka || !options.kafka) continue;
        const low = Number(kafka.low);
        const high = Number(kafka.high);
        const epoch = await followedEpoch(fs, topic, partition, group);
        const gaps: [number, number][] = [];
        let next = low;
        for (const f of resolved.files.filter((file) => epochOf(file) === epoch)) {
          if (f.start > next) gaps.push([next, f.start - 1]);
          next = Math.max(next, f.end + 1);
        }
        if (next < high) report.lag[where] = high - next;
        for (const [from, to] of gaps) {
          const found = await firstOffsetFrom(options.kafka, topic, partition, from, to);
          if (found !== null && found <= to)
            report.problems.push(
              `${where}: offsets ${from}..${to} are in Kafka but not in the archive (first: ${found})`,
            );
        }
      }
    }
  } finally {
    await admin?.disconnect();
  }
  return report;
}

/** The log epoch the archive follows in a partition: its marker's, or the highest among its names. */
async function followedEpoch(
  fs: ArchiveFileSystem,
  topic: string,
  partition: number,
  files: readonly ArchiveFile[],
): Promise<number> {
  const text = await fs.readText(markerPathOf(topic, partition));
  const marker = text === null ? null : parseMarker(text, topic, partition);
  return Math.max(0, lastEpochOf(files), marker ? epochOf(marker) : 0);
}

function byPartition(files: readonly ArchiveFile[]): Map<number, ArchiveFile[]> {
  const out = new Map<number, ArchiveFile[]>();
  for (const f of files) out.set(f.partition, [...(out.get(f.partition) ?? []), f]);
  return new Map([...out].sort(([a], [b]) => a - b));
}

/** A listed file's facts; one it cannot read is named, with where to look next, instead of DuckDB's bare error. */
async function rowsOf(fs: ArchiveFileSystem, duckdb: DuckDBInstance, file: ArchiveFile) {
  try {
    return await factsOf(fs, duckdb, file);
  } catch (error) {
    throw new CroupierError(
      'CROUPIER_ERR_ARCHIVE_VERIFY',
      `cannot count the rows of ${file.path} (${(error as Error).message.split('\n')[0]}): run croupier archive verify to list every unreadable file, or ls --no-rows to list without reading them`,
      { path: file.path },
      { cause: error },
    );
  }
}

async function factsOf(fs: ArchiveFileSystem, duckdb: DuckDBInstance, file: ArchiveFile) {
  const copy = await fs.localCopy(file.path);
  try {
    return await readFileFacts(duckdb, copy.localPath, file.format);
  } finally {
    if (copy.copied) await rm(copy.localPath, { force: true });
  }
}

/**
 * The first offset Kafka returns (read committed, as the archive reads) at or after `from`, looking no further
 * than `to` + 1; null when Kafka returns nothing up to its end.
 */
async function firstOffsetFrom(
  kafka: Kafka,
  topic: string,
  partition: number,
  from: number,
  to: number,
): Promise<number | null> {
  const consumer = kafka.consumer({
    groupId: `croupier-archive-verify-${process.pid}-${Date.now()}`,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  try {
    let found: number | null = null;
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    consumer.on(consumer.events.GROUP_JOIN, () => consumer.seek({ topic, partition, offset: String(from) }));
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        if (batch.partition !== partition) return;
        const first = batch.messages.find((m) => Number(m.offset) >= from);
        if (first) {
          found = Number(first.offset);
          resolveDone();
        } else if (
          Number(batch.highWatermark) > to + 1 &&
          batch.messages.length > 0 &&
          Number(batch.lastOffset()) > to
        )
          resolveDone();
      },
    });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
    await admin.disconnect();
    const high = Number(offsets.find((o) => o.partition === partition)?.high ?? 0);
    // Nothing at or after `from` arrives within a few seconds when the gap runs to Kafka's end of log.
    await Promise.race([done, new Promise((r) => setTimeout(r, high > to + 1 ? 15_000 : 3_000))]);
    return found;
  } finally {
    await consumer.disconnect();
  }
}
