/**
 * `croupier archive compact`: merges runs of consecutive small files of one partition and hour into one
 * (compaction-plan.ts decides which). Atomic by names: the merged file is renamed into place under a name
 * spanning the offsets of the files it replaces, and only then are those removed; a crash in between leaves
 * files inside the merged file's range, which recovery and the next compaction remove.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { Logger } from '../log/logger.ts';
import { type CompactionGroup, planCompaction } from './compaction-plan.ts';
import { writeAvroContainer } from './format/avro-builder.ts';
import { sqlString } from './format/columns.ts';
import { readAvroFile, readParquetFacts } from './format/file-reader.ts';
import type { ArchiveFileSystem } from './fs/archive-fs.ts';
import { fileNameOf, hourOfDir, TMP_DIR, tmpNameOf } from './layout.ts';
import { listTopicFiles, listTopics } from './scan.ts';

export interface CompactOptions {
  fs: ArchiveFileSystem;
  duckdb: DuckDBInstance;
  targetBytes: number;
  compression: string;
  /** Only hours that ended at least this long ago (wall clock); 0: every hour. */
  minAgeMs: number;
  topics?: readonly string[];
  dryRun?: boolean;
  logger: Logger;
  now?: number;
}

export interface CompactResult {
  groups: CompactionGroup[];
  merged: number;
  removed: number;
  failed: number;
}

export async function compactArchive(options: CompactOptions): Promise<CompactResult> {
  const { fs, logger } = options;
  const now = options.now ?? Date.now();
  const eligible = (dir: string) => {
    const hour = hourOfDir(dir);
    return hour !== null && hour + 3_600_000 + options.minAgeMs <= now;
  };
  const result: CompactResult = { groups: [], merged: 0, removed: 0, failed: 0 };
  for (const topic of options.topics ?? (await listTopics(fs))) {
    const files = await listTopicFiles(fs, topic, { withSizes: true });
    const groups = planCompaction(files, options.targetBytes, eligible);
    result.groups.push(...groups);
    if (options.dryRun) continue;
    for (const group of groups) {
      try {
        result.removed += await mergeGroup(options, group);
        result.merged++;
      } catch (error) {
        result.failed++;
        logger.warn(
          { err: error, dir: group.dir, file: fileNameOf(group.merged) },
          'compaction of a run of files failed; they stay as they are',
        );
      }
    }
  }
  return result;
}

async function mergeGroup(options: CompactOptions, group: CompactionGroup): Promise<number> {
  const { fs } = options;
  await mkdir(fs.stagingDir, { recursive: true });
  const base = `${group.merged.topic}+${group.merged.partition}+compact.${randomUUID().slice(0, 8)}`;
  const out = path.join(fs.stagingDir, `${base}.${group.merged.format}`);
  const copies = await Promise.all(group.files.map((f) => fs.localCopy(f.path)));
  try {
    const metadata = await mergedMetadata(
      options,
      group,
      copies.map((c) => c.localPath),
    );
    if (group.merged.format === 'avro') {
      const contents = await Promise.all(copies.map((c) => readAvroFile(c.localPath)));
      writeAvroContainer(
        out,
        contents[0].schemaText,
        metadata,
        contents.map((c) => ({ count: c.rows.length, body: Buffer.concat(c.rows) })),
      );
    } else {
      const list = `[${copies.map((c) => sqlString(c.localPath)).join(', ')}]`;
      const kv = Object.entries(metadata)
        .map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`)
        .join(', ');
      const c = await options.duckdb.connect();
      try {
        await c.run(
          `COPY (SELECT * FROM read_parquet(${list}, union_by_name = true) ORDER BY _offset) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION ${options.compression}, KV_METADATA {${kv}})`,
        );
      } finally {
        c.closeSync();
      }
    }
    const tmpPath = `${TMP_DIR}/${tmpNameOf(group.merged, randomUUID().slice(0, 8))}`;
    await fs.upload(out, tmpPath);
    try {
      await fs.rename(tmpPath, `${group.dir}/${fileNameOf(group.merged)}`);
    } catch (error) {
      await fs.remove(tmpPath);
      throw error;
    }
    for (const f of group.files) await fs.remove(f.path);
    options.logger.info(
      {
        dir: group.dir,
        file: fileNameOf(group.merged),
        replaced: group.files.length,
        bytes: (await stat(out).catch(() => null))?.size,
      },
      'files compacted',
    );
    return group.files.length;
  } finally {
    await rm(out, { force: true });
    for (const c of copies) if (c.copied) await rm(c.localPath, { force: true });
  }
}

/** The merged file's metadata: its offsets and rows, and the writer schemas of every file it replaces. */
async function mergedMetadata(
  options: CompactOptions,
  group: CompactionGroup,
  paths: string[],
): Promise<Record<string, string>> {
  const schemas: Record<string, string> = {};
  let records = 0;
  for (const p of paths) {
    const meta =
      group.merged.format === 'avro'
        ? (await readAvroFile(p)).metadata
        : (await readParquetFacts(options.duckdb, p)).metadata;
    Object.assign(schemas, JSON.parse(meta['croupier.writerSchemas'] ?? '{}'));
    records += Number(meta['croupier.records'] ?? 0);
  }
  return {
    'croupier.topic': group.merged.topic,
    'croupier.partition': String(group.merged.partition),
    'croupier.startOffset': String(group.merged.start),
    'croupier.endOffset': String(group.merged.end),
    'croupier.records': String(records),
    'croupier.schemaIds': Object.keys(schemas).join(','),
    'croupier.writerSchemas': JSON.stringify(schemas),
  };
}
