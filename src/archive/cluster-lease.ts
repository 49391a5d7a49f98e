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
 * names another cluster with a live consumer (a lease seen renewed within its `leaseMs`, BeatWatch) waits, reported,
 * and is taken over only once that cluster's archive has stopped: cleanly (its lease removed), or silent for its
 * lease.
 * Consumers of one cluster (one consumer group) share its lease directory and never wait on each other.
 */
import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import { settleWithin } from '../domain/settle.ts';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import type { ArchiveFileSystem } from './fs/archive-fs.ts';
import { markerPathOf } from './layout.ts';
import type { MarkerClaim, MarkerClaimant } from './marker-claim.ts';
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

/**
 * Whether beats still hold, judged on the reader's own clock and never on the writer's: a beat holds while its
 * `beatAt` was last seen to change within its `leaseMs` (a beat first seen holds until its lease has passed
 * unchanged). Comparing `beatAt` with the reader's clock would take a live archive on a host whose clock is a
 * lease behind for a dead one, and one whose clock is ahead for alive long after it stopped. `now`: a monotonic
 * clock, ms.
 */
export class BeatWatch {
  private readonly seen = new Map<string, { beatAt: number; since: number }>();

  /** Milliseconds since the beat was last seen to change (0 when it just did, or is new). */
  unchangedFor(beat: ClusterBeat, now: number): number {
    const key = `${beat.cluster}/${beat.holder}`;
    const last = this.seen.get(key);
    if (last === undefined || last.beatAt !== beat.beatAt) {
      this.seen.set(key, { beatAt: beat.beatAt, since: now });
      return 0;
    }
    return now - last.since;
  }

  holds(beat: ClusterBeat, now: number): boolean {
    return this.unchangedFor(beat, now) <= beat.leaseMs;
  }

  /** Forgets a beat whose file is gone. */
  forget(beat: ClusterBeat): void {
    this.seen.delete(`${beat.cluster}/${beat.holder}`);
  }
}

export interface ClusterLeaseOptions {
  fs: ArchiveFileSystem;
  /** The Kafka cluster's id, or null when it cannot be read. */
  clusterId(): Promise<string | null>;
  leaseMs: number;
  logger: Logger;
}

export interface ClusterLease extends MarkerClaimant {
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
  let closed = false;
  const pathOf = (c: string) => `${clusterDirOf(c)}/${holder}.json`;

  async function beat(): Promise<void> {
    const id = await options.clusterId();
    if (id !== null && id !== cluster) {
      if (cluster !== null) await fs.remove(pathOf(cluster)).catch(() => false);
      cluster = id;
    }
    if (cluster === null || closed) return;
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
  // The beats never keep a process alive by themselves (an archive whose start failed after this point).
  const timer = setInterval(beatNow, Math.max(50, Math.floor(leaseMs / 3))).unref();

  const watch = new BeatWatch();
  /** Claim files seen unreadable (marker-claim.ts): path → when first seen so, on this consumer's clock. */
  const unreadableSince = new Map<string, number>();
  /** The beats of cluster `c` that hold, with how long ago each last changed. */
  async function liveBeatsOf(c: string): Promise<{ beat: ClusterBeat; unchangedMs: number }[]> {
    const dir = clusterDirOf(c);
    const out: { beat: ClusterBeat; unchangedMs: number }[] = [];
    for (const entry of await fs.list(dir)) {
      if (entry.type !== 'file' || !entry.name.endsWith('.json')) continue;
      const text = await fs.readText(`${dir}/${entry.name}`);
      const b = text === null ? null : parseBeat(text);
      if (b === null || b.holder === holder) continue;
      const unchangedMs = watch.unchangedFor(b, performance.now());
      if (unchangedMs <= b.leaseMs) out.push({ beat: b, unchangedMs });
      else if (unchangedMs > 2 * b.leaseMs) {
        // A consumer killed without its close: its lease is removed once seen unchanged for twice its length.
        await fs.remove(`${dir}/${entry.name}`).catch(() => false);
        watch.forget(b);
      }
    }
    return out;
  }

  return {
    get cluster() {
      return cluster;
    },
    holder,
    /** A claim holds while its consumer's lease does (one of this consumer's own is an earlier writer's, stale). */
    async holds(claim: MarkerClaim) {
      if (claim.holder === holder || claim.cluster === null) return false;
      const text = await fs.readText(`${clusterDirOf(claim.cluster)}/${claim.holder}.json`);
      const b = text === null ? null : parseBeat(text);
      return b !== null && watch.holds(b, performance.now());
    },
    holdsUnreadable(path: string) {
      const now = performance.now();
      for (const [p, since] of unreadableSince) if (now - since > 10 * leaseMs) unreadableSince.delete(p);
      const since = unreadableSince.get(path) ?? now;
      unreadableSince.set(path, since);
      return now - since <= leaseMs;
    },
    async heldElsewhere(topic, partition) {
      const text = await fs.readText(markerPathOf(topic, partition));
      const marker = text === null ? null : parseMarker(text, topic, partition);
      const other = marker?.cluster ?? null;
      if (other === null || cluster === null || other === cluster) return null;
      // Another cluster's marker: followed unless a consumer of that cluster (not this one) still renews a lease.
      const live = await liveBeatsOf(other);
      if (live.length === 0) return null;
      const beats = live.map((l) => l.beat);
      const quiet = Math.min(...live.map((l) => l.unchangedMs));
      return new CroupierError(
        'CROUPIER_ERR_ARCHIVE_OTHER_CLUSTER',
        `archive partition ${topic}+${partition} at ${fs.location} is written by the archive of another Kafka ` +
          `cluster (cluster id ${other}; ${live.length} consumer(s) alive: ` +
          `${beats.map((b) => `process ${b.pid} on ${b.host}`).join(', ')}; its lease last renewed within ${Math.round(quiet)} ms) ` +
          `than this one's (cluster id ${cluster}). Two Kafka clusters cannot share an archive directory: give each ` +
          `its own archive.uri. The partition waits, and is archived (as a new log epoch) once that archive has stopped`,
        { topic, partition, cluster: other, ownCluster: cluster, consumers: live.length },
      );
    },
    async close() {
      clearInterval(timer);
      // A beat reads the cluster id from Kafka, which retries for many seconds when the broker is gone; the lease is
      // removed without waiting that long (a beat that ends later writes nothing: see `closed`).
      closed = true;
      await settleWithin(beating);
      if (cluster !== null) await fs.remove(pathOf(cluster)).catch(() => false);
    },
  };
}
