/**
 * The cold part of a partition's log on disk (data-dir mode): runs of batches no longer in the memory cache,
 * whose entries are not held in memory either. A run is a summary (its segment, offsets and largest
 * timestamp): a whole closed segment, or at least `COLD_RUN_ENTRIES` batches of the active one. Its entries are
 * read from the segment's index file when a fetch, a timestamp lookup or retention needs them, and those of the
 * last `keepLoaded` runs read stay in memory (a consumer catching up reads one run after another). A
 * partition's memory is then bounded by its batch cache, not by the log, which retention may let grow for days;
 * Kafka keeps its offset indexes out of the heap for the same reason.
 */
/** What this needs of a batch entry (a partition's log entry has these and more). */
export interface SegmentEntry {
  /** The base offset of the segment it is in. */
  segment: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

/** The first index in [lo, hi) whose item is not `below` (hi if none); items `below` come first. */
export function lowerBound<T>(
  items: readonly T[],
  lo: number,
  hi: number,
  below: (item: T) => boolean,
): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (below(items[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Fewest cold batches of the active segment moved out of memory at once. */
export const COLD_RUN_ENTRIES = 4096;

export interface ClosedSegment {
  /** The base offset of the segment the run is in (its file name). */
  readonly base: number;
  /** Base offset of the run's first batch when it left memory. */
  readonly start: number;
  /** Base offset of its first batch not deleted by retention. */
  firstOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
}

export class ClosedSegments<E extends SegmentEntry> {
  private readonly segments: ClosedSegment[] = [];
  /** Entries of recently read segments, least recently used first. */
  private readonly loaded = new Map<number, E[]>();

  constructor(
    /** Reads the entries of segment `base` from its index, those of batches `firstOffset` to `lastOffset`. */
    private readonly load: (base: number, firstOffset: number, lastOffset: number) => E[],
    private readonly keepLoaded = 2,
  ) {}

  get length(): number {
    return this.segments.length;
  }

  get first(): ClosedSegment | undefined {
    return this.segments[0];
  }

  /** Index of the first closed segment whose last offset is ≥ `offset` (`length` if none). */
  indexOf(offset: number): number {
    return lowerBound(this.segments, 0, this.segments.length, (s) => s.lastOffset < offset);
  }

  at(index: number): ClosedSegment | undefined {
    return this.segments[index];
  }

  /** Takes over the entries of a run of one segment, in log order (their batches are no longer in memory). */
  add(entries: readonly E[]): void {
    let maxTimestamp = -1;
    for (const e of entries) if (e.maxTimestamp > maxTimestamp) maxTimestamp = e.maxTimestamp;
    this.segments.push({
      base: entries[0]!.segment,
      start: entries[0]!.baseOffset,
      firstOffset: entries[0]!.baseOffset,
      lastOffset: entries[entries.length - 1]!.lastOffset,
      maxTimestamp,
    });
  }

  /** The segment's batch entries from `fromOffset` on (entries whose last offset is below it left out). */
  entries(segment: ClosedSegment, fromOffset = segment.firstOffset): E[] {
    let entries = this.loaded.get(segment.start);
    if (entries) this.loaded.delete(segment.start);
    else entries = this.load(segment.base, segment.start, segment.lastOffset);
    this.loaded.set(segment.start, entries);
    if (this.loaded.size > this.keepLoaded) this.loaded.delete(this.loaded.keys().next().value!);
    const from = Math.max(fromOffset, segment.firstOffset);
    const first = lowerBound(entries, 0, entries.length, (e) => e.lastOffset < from);
    return first === 0 ? entries : entries.slice(first);
  }

  /** Retention deleted the oldest run whole. */
  dropFirst(): void {
    const dropped = this.segments.shift();
    if (dropped) this.loaded.delete(dropped.start);
  }
}
