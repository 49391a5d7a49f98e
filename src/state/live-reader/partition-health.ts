/**
 * Whether the live reader's copy of one partition is whole, read from the partition's marker
 * (docs/state-layout.md, "Marker"): the writer keeps an `epoch` (when the partition's state began) and, while it
 * folds a lost state again from Kafka, `rebuildUntil`. The reader never lets a state that is empty or partial
 * replace one that was whole:
 *
 * - `live`: the copy is whole; the reader tails the feed.
 * - `held`: Redis lost the partition (no marker), or is rebuilding it: the reader keeps its last good copy, stops
 *   tailing, and takes a fresh snapshot once the marker says the rebuild is done.
 * - `following`: the reader had nothing whole to keep (it started during a rebuild): it tails the rebuild and is
 *   not ready until it ends.
 */

/** A partition's marker as read from Redis. */
export interface PartitionMarker {
  epoch: number | null;
  rebuildUntil: number | null;
}

export type PartitionStatus = 'live' | 'held' | 'following';

/** What a marker read while tailing asks for. */
export type MarkerVerdict = 'tail' | 'hold' | 'resnapshot';

export class PartitionHealth {
  status: PartitionStatus = 'live';
  /** Epoch of the state the tables hold (null: none seen). */
  epoch: number | null = null;
  /** The offset a rebuild in progress must reach, as last read. */
  rebuildUntil: number | null = null;
  private loaded = false;

  /** Whether a snapshot taken with `marker` may replace what the tables hold of the partition. */
  admitSnapshot(marker: PartitionMarker): boolean {
    this.rebuildUntil = marker.rebuildUntil;
    if (!this.loaded || this.epoch === null) {
      // Nothing whole to keep: take what there is, and follow a rebuild to its end.
      this.loaded = true;
      this.epoch = marker.epoch;
      this.status = marker.rebuildUntil === null ? 'live' : 'following';
      return true;
    }
    if (marker.epoch === null) {
      this.status = 'held';
      return false;
    }
    if (marker.rebuildUntil !== null) {
      if (this.status === 'following' && marker.epoch === this.epoch) return true;
      this.status = 'held';
      return false;
    }
    this.epoch = marker.epoch;
    this.status = 'live';
    return true;
  }

  /** What a marker read while the copy is `live` or `following` means for it (`hold` sets the status). */
  onMarker(marker: PartitionMarker): MarkerVerdict {
    this.rebuildUntil = marker.rebuildUntil;
    if (this.status === 'held') {
      return marker.epoch !== null && marker.rebuildUntil === null ? 'resnapshot' : 'hold';
    }
    if (marker.epoch === null) {
      if (this.epoch === null) return 'tail';
      this.status = 'held';
      return 'hold';
    }
    if (marker.epoch !== this.epoch) {
      if (this.epoch === null && marker.rebuildUntil === null) {
        // The first batch written with a marker: the feed the reader tails is the same.
        this.epoch = marker.epoch;
        return 'tail';
      }
      return 'resnapshot';
    }
    if (marker.rebuildUntil !== null) {
      if (this.status === 'following') return 'tail';
      this.status = 'held';
      return 'hold';
    }
    this.status = 'live';
    return 'tail';
  }
}

/** The `HMGET marker epoch rebuildUntil` reply as a marker. */
export function parseMarker(reply: unknown): PartitionMarker {
  const values = Array.isArray(reply) ? reply : [];
  const number = (raw: unknown): number | null => {
    if (raw === null || raw === undefined) return null;
    const value = Number(raw);
    return Number.isFinite(value) ? value : null;
  };
  return { epoch: number(values[0]), rebuildUntil: number(values[1]) };
}
