/**
 * The closed segments of a partition kept on disk (data-dir mode), whose batch entries are not held in memory.
 * Each segment is a summary: its offsets, batch count and largest timestamp. Its entries are read from the
 * segment's index file when a fetch, a timestamp lookup or retention needs them, and the entries of the last
 * `keepLoaded` segments read stay in memory (a consumer catching up reads one segment after another). A
 * partition's memory is then bounded by its active segment (and its batch cache), not by the whole log, which
 * retention may let grow for days; Kafka keeps its offset indexes out of the heap for the same reason.
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

export interface ClosedSegment {
  /** The segment's base offset (its file name). */
  readonly base: number;
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
    /** Reads a closed segment's batch entries from its index. */
    private readonly load: (base: number) => E[],
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

  /** Takes over the entries of one whole segment, in log order (their batches are no longer in memory). */
  add(entries: readonly E[]): void {
    let maxTimestamp = -1;
    for (const e of entries) if (e.maxTimestamp > maxTimestamp) maxTimestamp = e.maxTimestamp;
    this.segments.push({
      base: entries[0]!.segment,
      firstOffset: entries[0]!.baseOffset,
      lastOffset: entries[entries.length - 1]!.lastOffset,
      maxTimestamp,
    });
  }

  /** The segment's batch entries from `fromOffset` on (entries whose last offset is below it left out). */
  entries(segment: ClosedSegment, fromOffset = segment.firstOffset): E[] {
    let entries = this.loaded.get(segment.base);
    if (entries) this.loaded.delete(segment.base);
    else entries = this.load(segment.base);
    this.loaded.set(segment.base, entries);
    if (this.loaded.size > this.keepLoaded) this.loaded.delete(this.loaded.keys().next().value!);
    const from = Math.max(fromOffset, segment.firstOffset);
    const first = lowerBound(entries, 0, entries.length, (e) => e.lastOffset < from);
    return first === 0 ? entries : entries.slice(first);
  }

  /** Retention deleted the oldest segment whole. */
  dropFirst(): void {
    const dropped = this.segments.shift();
    if (dropped) this.loaded.delete(dropped.base);
  }
}
