/**
 * Which Kafka cluster an archive directory follows. A partition's marker names the cluster whose log its files
 * were written from, and every running archive consumer beats a lease file of its cluster:
 *
 *   <root>/+clusters/<cluster>/<holder>.json   {cluster, holder, pid, host, beatAt, leaseMs}, written every
 *                                              leaseMs / 3, removed when the consumer stops
 *
 * A log that started again (an embedded broker without `broker.dataDir` restarted, whose cluster id is new each
 * start) must be archived on, under a new log epoch (log-restart.ts); a second Kafka cluster whose archive
 * writes into the same directory must not be: each would take the other's commits for a log that started again
 * and archive every record again under a new epoch, at each other's every commit. The two look alike at the
 * marker (another cluster's record at the archived end); the lease tells them apart. A partition whose marker
 * names another cluster with a live consumer (a lease beaten within its `leaseMs`) waits, reported, and is taken
 * over only once that cluster's archive has stopped: cleanly (its lease removed), or silent for its lease.
 * Consumers of one cluster (one consumer group) share its lease directory and never wait on each other.
 */
import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import type { ArchiveFileSystem } from './fs/archive-fs.ts';
import { markerPathOf } from './layout.ts';
import { parseMarker } from './recovery.ts';

export const CLUSTERS_DIR = '+clusters';

/** One running archive consumer's lease on its cluster. */
export interface ClusterBeat {
  cluster: string;
  /** The consumer's token (random, one per sink). */
  holder: string;
  pid: number;
  host: string;
  /** When it was written (the writer's clock), ms. */
  beatAt: number;
  /** How long it holds after `beatAt`, ms. */
  leaseMs: number;
}

/** A directory name for a cluster id: the id itself when it is a plain one (Kafka's are), else its SHA-256. */
export function clusterDirOf(cluster: string): string {
  const name = /^[A-Za-z0-9_-]{1,64}$/.test(cluster)
    ? cluster
    : createHash('sha256').update(cluster).digest('hex');
  return `${CLUSTERS_DIR}/${name}`;
}

/** The beat in `text`, or null when it is not one (torn, foreign). */
export function parseBeat(text: string): ClusterBeat | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const b = v as Partial<ClusterBeat> | null;
  if (
    typeof b !== 'object' ||
    b === null ||
    typeof b.cluster !== 'string' ||
    typeof b.holder !== 'string' ||
    !Number.isSafeInteger(b.beatAt) ||
    !Number.isSafeInteger(b.leaseMs) ||
    (b.leaseMs as number) <= 0
  )
    return null;
  return {
    cluster: b.cluster,
    holder: b.holder,
    pid: Number.isSafeInteger(b.pid) ? (b.pid as number) : 0,
    host: typeof b.host === 'string' ? b.host : '',
    beatAt: b.beatAt as number,
    leaseMs: b.leaseMs as number,
  };
}

/** Whether a beat still holds at `now`. */
export const beatHolds = (beat: ClusterBeat, now: number): boolean => beat.beatAt + beat.leaseMs >= now;

/**
 * Whether a partition whose marker names `markerCluster` may be archived by a consumer of `own`: `follow` when
 * the marker names no cluster (written before markers did), this one, or a cluster with no live consumer
 * (`beats`: that cluster's leases; one of `holder`'s own counts as none), `wait` otherwise. Pure.
 */
export function judgeMarkerCluster(
  markerCluster: string | null,
  own: string | null,
  beats: readonly ClusterBeat[],
  holder: string,
  now: number,
): 'follow' | 'wait' {
  if (markerCluster === null || own === null || markerCluster === own) return 'follow';
  return beats.some((b) => b.holder !== holder && b.cluster === markerCluster && beatHolds(b, now))
    ? 'wait'
    : 'follow';
}

export interface ClusterLeaseOptions {
  fs: ArchiveFileSystem;
  /** The Kafka cluster's id, or null when it cannot be read. */
  clusterId(): Promise<string | null>;
  leaseMs: number;
  logger: Logger;
}

export interface ClusterLease {
  /** The cluster this consumer archives (read at start and at each beat); null when unknown. */
  readonly cluster: string | null;
  /**
   * Null when this consumer may archive the partition; else the error saying which cluster's live archive holds
   * it (CROUPIER_ERR_ARCHIVE_OTHER_CLUSTER).
   */
  heldElsewhere(topic: string, partition: number): Promise<CroupierError | null>;
  /** Stops beating and removes this consumer's lease. */
  close(): Promise<void>;
}

/** Reads the cluster id, writes the first beat, and beats every `leaseMs / 3`. */
export async function startClusterLease(options: ClusterLeaseOptions): Promise<ClusterLease> {
  const { fs, leaseMs, logger } = options;
  const holder = randomUUID();
  let cluster: string | null = null;
  let beating: Promise<void> | null = null;
  const pathOf = (c: string) => `${clusterDirOf(c)}/${holder}.json`;

  async function beat(): Promise<void> {
    const id = await options.clusterId();
    if (id !== null && id !== cluster) {
      if (cluster !== null) await fs.remove(pathOf(cluster)).catch(() => false);
      cluster = id;
    }
    if (cluster === null) return;
    const beat: ClusterBeat = {
      cluster,
      holder,
      pid: process.pid,
      host: os.hostname(),
      beatAt: Date.now(),
      leaseMs,
    };
    await fs.mkdirs(clusterDirOf(cluster));
    await fs.writeText(pathOf(cluster), `${JSON.stringify(beat)}\n`);
  }
  const beatNow = () => {
    beating ??= beat()
      .catch((error: unknown) => logger.warn({ err: error }, 'could not renew the archive cluster lease'))
      .finally(() => {
        beating = null;
      });
    return beating;
  };
  await beatNow();
  const timer = setInterval(beatNow, Math.max(50, Math.floor(leaseMs / 3)));

  async function beatsOf(c: string): Promise<ClusterBeat[]> {
    const dir = clusterDirOf(c);
    const out: ClusterBeat[] = [];
    for (const entry of await fs.list(dir)) {
      if (entry.type !== 'file' || !entry.name.endsWith('.json')) continue;
      const text = await fs.readText(`${dir}/${entry.name}`);
      const b = text === null ? null : parseBeat(text);
      if (b === null) continue;
      // Leases of consumers gone for twice their lease are removed (a consumer killed without its close).
      if (b.holder !== holder && b.beatAt + 2 * b.leaseMs < Date.now())
        await fs.remove(`${dir}/${entry.name}`).catch(() => false);
      else out.push(b);
    }
    return out;
  }

  return {
    get cluster() {
      return cluster;
    },
    async heldElsewhere(topic, partition) {
      const text = await fs.readText(markerPathOf(topic, partition));
      const marker = text === null ? null : parseMarker(text, topic, partition);
      const other = marker?.cluster ?? null;
      if (other === null || cluster === null || other === cluster) return null;
      const beats = await beatsOf(other);
      const now = Date.now();
      if (judgeMarkerCluster(other, cluster, beats, holder, now) === 'follow') return null;
      const live = beats.filter((b) => beatHolds(b, now));
      const latest = Math.max(...live.map((b) => b.beatAt));
      return new CroupierError(
        'CROUPIER_ERR_ARCHIVE_OTHER_CLUSTER',
        `archive partition ${topic}+${partition} at ${fs.location} is written by the archive of another Kafka ` +
          `cluster (cluster id ${other}; ${live.length} consumer(s) alive: ` +
          `${live.map((b) => `process ${b.pid} on ${b.host}`).join(', ')}; last beat ${Math.max(0, now - latest)} ms ago) ` +
          `than this one's (cluster id ${cluster}). Two Kafka clusters cannot share an archive directory: give each ` +
          `its own archive.uri. The partition waits, and is archived (as a new log epoch) once that archive has stopped`,
        { topic, partition, cluster: other, ownCluster: cluster, consumers: live.length },
      );
    },
    async close() {
      clearInterval(timer);
      await beating;
      if (cluster !== null) await fs.remove(pathOf(cluster)).catch(() => false);
    },
  };
}
