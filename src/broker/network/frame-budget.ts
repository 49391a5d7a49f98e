/**
 * The memory that request frames being received may hold, across every connection of a broker. A frame larger
 * than one socket chunk is copied into a buffer of its size as its bytes arrive, and stays there until the
 * broker takes it; each connection may announce a frame of up to `maxFrameBytes` (100 MiB), so a few hundred
 * connections each sending most of one large frame (or queueing many) could hold gigabytes and end the process
 * (a thread of `croupier start`). Past `limit` bytes held, the connection holding the most is closed: a client
 * sending an ordinary request holds little, and retries on a new connection.
 */

/** A connection as the budget sees it. */
export interface FrameHolder {
  /** Closes the connection; it releases what it held. */
  evict(reason: string): void;
}

export class FrameBudget {
  readonly limit: number;
  private heldBytes = 0;
  private readonly holders = new Map<FrameHolder, number>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes held by frames being received or waiting to be handled, all connections together. */
  get held(): number {
    return this.heldBytes;
  }

  /** `holder` now holds `bytes` more; past the limit, the largest holders are evicted until under it. */
  add(holder: FrameHolder, bytes: number): void {
    this.holders.set(holder, (this.holders.get(holder) ?? 0) + bytes);
    this.heldBytes += bytes;
    while (this.heldBytes > this.limit) {
      let largest: FrameHolder | null = null;
      let most = -1;
      for (const [h, n] of this.holders) {
        if (n > most) {
          largest = h;
          most = n;
        }
      }
      if (largest === null) break;
      this.releaseAll(largest);
      largest.evict(
        `request frames of all connections would hold more than ${this.limit} bytes; this connection held ${most}`,
      );
    }
  }

  /** `holder` no longer holds `bytes` of what it added. */
  release(holder: FrameHolder, bytes: number): void {
    const n = this.holders.get(holder);
    if (n === undefined) return;
    const released = Math.min(n, bytes);
    this.heldBytes -= released;
    if (n - released > 0) this.holders.set(holder, n - released);
    else this.holders.delete(holder);
  }

  /** `holder` holds nothing any more (it closed). */
  releaseAll(holder: FrameHolder): void {
    this.release(holder, Number.POSITIVE_INFINITY);
  }
}
