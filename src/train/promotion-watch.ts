/**
 * One look of the post-promotion watch: finds the promotion that made the active model active (when the watch
 * has not concluded on it), counts from the archive the carousels the new model dealt since and those the
 * previous model dealt — since the promotion too, to its holdback's users, when the promotion kept one (a
 * concurrent control); otherwise in the baseline before it — judges them with the sequential test (src/models/watch.ts),
 * and acts: a significant loss rolls the registry back (a watching gateway reloads), a kept promotion is
 * recorded; both with the look as their evidence in `history.json` (`croupier models show` prints it).
 */
import type { ArchiveFileSystem } from '../archive/fs/archive-fs.ts';
import type { Config } from '../config/index.ts';
import {
  type HistoryEvent,
  promotionToWatch,
  readHistory,
  recordWatchKept,
  rollbackActive,
} from '../models/registry-writer.ts';
import { judgePromotion, type WatchLook } from '../models/watch.ts';
import { readManifest } from '../scoring/model-registry.ts';
import { countLiveCtr } from './live-ctr.ts';

export type WatchOutcome =
  | { status: 'idle'; reason: string }
  | { status: 'rollback' | 'keep' | 'continue'; look: WatchLook; event?: HistoryEvent };

export async function watchPromotion(options: {
  config: Readonly<Config>;
  archive: ArchiveFileSystem;
  now?: Date;
}): Promise<WatchOutcome> {
  const { config } = options;
  const settings = config.train.watch;
  const dir = config.model.registryDir;
  const now = options.now ?? new Date();
  const manifest = await readManifest(dir);
  const promotion = promotionToWatch(await readHistory(dir), manifest.active);
  if (promotion === null) {
    return {
      status: 'idle',
      reason: `nothing to watch: no promotion of ${manifest.active} awaits a verdict`,
    };
  }
  const promotedMs = Date.parse(promotion.at);
  const concurrent = promotion.holdback !== undefined && promotion.holdback.version === promotion.from;
  const counts = await countLiveCtr({
    archive: options.archive,
    sides: [
      { side: 'new', version: promotion.to, fromMs: promotedMs, toMs: now.getTime() },
      concurrent
        ? { side: 'previous', version: promotion.from, fromMs: promotedMs, toMs: now.getTime() }
        : {
            side: 'previous',
            version: promotion.from,
            fromMs: promotedMs - settings.baselineSeconds * 1000,
            toMs: promotedMs,
          },
    ],
    attributionSeconds: settings.attributionSeconds,
    memoryLimit: config.train.memoryLimit,
    tempDir: config.train.tempDir,
  });
  const look = judgePromotion(
    {
      promotion: { at: promotion.at, from: promotion.from, to: promotion.to },
      control: concurrent
        ? { kind: 'holdback', percent: promotion.holdback!.percent }
        : { kind: 'before', seconds: settings.baselineSeconds },
      newModel: counts.get('new')!,
      previous: counts.get('previous')!,
      elapsedSeconds: (now.getTime() - promotedMs) / 1000,
      at: now.toISOString(),
    },
    settings,
  );
  if (look.verdict === 'rollback') {
    const event = await rollbackActive(dir, `rolled back by the watch: ${look.reason}`, look);
    return { status: 'rollback', look, event };
  }
  if (look.verdict === 'keep') {
    return { status: 'keep', look, event: await recordWatchKept(dir, look) };
  }
  return { status: 'continue', look };
}
