/**
 * Which files a compaction merges. Pure. Runs of consecutive files of one partition and log epoch (nothing of
 * the partition's epoch between them, in any hour: record times may go back) that share one hour directory are
 * merged while the merged file stays within the target size; a run of one file is left alone. The merged file's
 * name spans the offsets of the files it replaces, in their epoch.
 */
import { type ArchiveFile, type ArchiveFileName, epochOf } from './layout.ts';
import { resolvePartitionFiles } from './recovery.ts';

export interface CompactionGroup {
  dir: string;
  files: ArchiveFile[];
  merged: ArchiveFileName;
}

/** The merges among a topic's files (all of them, so runs are consecutive), in directories `eligible` accepts. */
export function planCompaction(
  files: readonly ArchiveFile[],
  targetBytes: number,
  eligible: (dir: string) => boolean = () => true,
): CompactionGroup[] {
  const byPartition = new Map<number, ArchiveFile[]>();
  for (const f of files) byPartition.set(f.partition, [...(byPartition.get(f.partition) ?? []), f]);
  const groups: CompactionGroup[] = [];
  for (const partitionFiles of byPartition.values()) {
    let run: ArchiveFile[] = [];
    let bytes = 0;
    const close = () => {
      if (run.length > 1) {
        const first = run[0];
        groups.push({
          dir: first.dir,
          files: run,
          merged: {
            topic: first.topic,
            partition: first.partition,
            start: first.start,
            end: run[run.length - 1].end,
            format: first.format,
            epoch: epochOf(first),
          },
        });
      }
      run = [];
      bytes = 0;
    };
    for (const file of resolvePartitionFiles(partitionFiles).files) {
      const fits =
        bytes + Math.max(0, file.bytes) <= targetBytes &&
        (run.length === 0 ||
          (run[0].format === file.format && run[0].dir === file.dir && epochOf(run[0]) === epochOf(file)));
      if (!fits) close();
      if (file.bytes >= targetBytes || !eligible(file.dir)) {
        close();
        continue;
      }
      run.push(file);
      bytes += Math.max(0, file.bytes);
    }
    close();
  }
  return groups;
}
