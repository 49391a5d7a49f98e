/** `archive.retentionDays`: removes date directories older than the retention, topic by topic. */
import type { Logger } from '../log/logger.ts';
import type { ArchiveFileSystem } from './fs/archive-fs.ts';
import { dayOfDateDir } from './layout.ts';
import { listTopics } from './scan.ts';

const DAY_MS = 86_400_000;

/** The first UTC day (ms) kept by a retention of `days` days. */
export const retentionCutoff = (days: number, now = Date.now()): number =>
  Math.floor(now / DAY_MS) * DAY_MS - days * DAY_MS;

/** Removes `<topic>/date=…` directories before the cutoff; resolves to the directories removed. */
export async function applyRetention(
  fs: ArchiveFileSystem,
  days: number,
  logger: Logger,
  now = Date.now(),
): Promise<string[]> {
  if (days <= 0) return [];
  const cutoff = retentionCutoff(days, now);
  const removed: string[] = [];
  for (const topic of await listTopics(fs)) {
    for (const entry of await fs.list(topic)) {
      const day = dayOfDateDir(entry.name);
      if (entry.type !== 'dir' || day === null || day >= cutoff) continue;
      await fs.remove(`${topic}/${entry.name}`);
      removed.push(`${topic}/${entry.name}`);
    }
  }
  if (removed.length > 0) logger.info({ removed, days }, 'archive retention removed date directories');
  return removed;
}
