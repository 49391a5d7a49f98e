/**
 * The live reader's watch on the partition markers (docs/state-layout.md, "Marker"): reads the marker of every
 * partition every `markerCheckMs` and of the held ones every round, acts on what each says (partition-health.ts:
 * keep tailing, hold the last good copy, or take a fresh snapshot), logs each partition's status when it changes,
 * and reports the partitions that are not whole.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../../log/logger.ts';
import type { FeedCursor } from './feed-cursor.ts';
import { type PartitionStatus, parseMarker } from './partition-health.ts';

/** Whether the copy is whole; each reason names a partition that is not. */
export interface LiveStateHealth {
  ready: boolean;
  reasons: string[];
}

export interface MarkerWatch {
  /** Called once per read round. */
  check(): Promise<void>;
  health(): LiveStateHealth;
  /** Partitions held (last good copy) and followed through a rebuild. */
  counts(): { held: number; following: number };
}

export function createMarkerWatch(options: {
  redis: Redis | Cluster;
  cursors: readonly FeedCursor[];
  /** Takes a fresh snapshot of a partition (the marker decides whether it replaces the copy). */
  resnapshot: (cursor: FeedCursor) => Promise<void>;
  markerCheckMs: number;
  log: Logger;
}): MarkerWatch {
  const { redis, cursors, log } = options;
  let lastCheck = Date.now();
  const logged: PartitionStatus[] = cursors.map(() => 'live');

  const logChanges = () => {
    cursors.forEach((cursor, i) => {
      const { status, rebuildUntil } = cursor.health;
      if (status === logged[i]) return;
      logged[i] = status;
      const partition = `${cursor.tp.topic}:${cursor.tp.partition}`;
      if (status === 'live') log.info({ partition }, 'partition state whole again: serving it');
      else if (status === 'held') {
        log.warn(
          { partition, rebuildUntil },
          'Redis lost or is rebuilding this partition: serving the last good copy',
        );
      } else log.warn({ partition, rebuildUntil }, 'following the rebuild of a partition: not ready');
    });
  };

  return {
    async check() {
      const now = Date.now();
      const all = now - lastCheck >= options.markerCheckMs;
      if (all) lastCheck = now;
      const targets = all ? cursors : cursors.filter((c) => c.health.status === 'held');
      const markers = await Promise.all(targets.map((c) => redis.hmget(c.marker, 'epoch', 'rebuildUntil')));
      for (let i = 0; i < targets.length; i++) {
        if (targets[i].health.onMarker(parseMarker(markers[i])) === 'resnapshot') {
          await options.resnapshot(targets[i]);
        }
      }
      logChanges();
    },
    health() {
      const reasons: string[] = [];
      for (const cursor of cursors) {
        const { status, rebuildUntil } = cursor.health;
        if (status === 'live') continue;
        const partition = `${cursor.tp.topic}:${cursor.tp.partition}`;
        const until = rebuildUntil === null ? '' : ` (until offset ${rebuildUntil})`;
        reasons.push(
          status === 'held'
            ? `${partition}: Redis lost or is rebuilding this partition's state${until}; serving the last good copy`
            : `${partition}: being rebuilt from Kafka${until}; the copy is partial until then`,
        );
      }
      return { ready: reasons.length === 0, reasons };
    },
    counts() {
      let held = 0;
      let following = 0;
      for (const c of cursors) {
        if (c.health.status === 'held') held++;
        else if (c.health.status === 'following') following++;
      }
      return { held, following };
    },
  };
}
