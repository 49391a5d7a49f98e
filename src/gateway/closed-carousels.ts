/**
 * The carousels of connections that closed, kept a short while by this gateway, so that feedback sent through a
 * new connection right after a reconnect (a page reloaded) is checked in memory, as on the connection that dealt
 * the carousel, at once. Otherwise it is checked against the request record the stream topology writes to Redis,
 * which is not there until the topology has folded the carousel: a click sent before that waits for the record
 * (`gateway.feedbackRecordWaitMs`, handlers/feedback.ts).
 *
 * Each carousel is kept under its user and request id (request ids are the client's: two users may use one) for
 * `keepMs` after its connection closed, `maxKept` at most (the oldest dropped first). The entry is the dealing
 * connection's own record of what it showed, with the feedback already taken on it, so each kind still counts
 * once per item shown. A carousel this gateway did not deal, or one dropped, is checked in Redis as before.
 */
import type { ShownRequest } from './connection.ts';

interface Kept {
  readonly shown: ShownRequest;
  readonly at: number;
}

export interface ClosedCarouselsOptions {
  /** How long a closed connection's carousels are kept, ms (default 120,000). */
  keepMs?: number;
  /** Most carousels kept at once (default 20,000). */
  maxKept?: number;
  now?: () => number;
}

export class ClosedCarousels {
  private readonly kept = new Map<string, Kept>();
  private readonly keepMs: number;
  private readonly maxKept: number;
  private readonly now: () => number;

  constructor(options: ClosedCarouselsOptions = {}) {
    this.keepMs = options.keepMs ?? 120_000;
    this.maxKept = options.maxKept ?? 20_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.kept.size;
  }

  /** Keeps the carousels a closed connection dealt to `userId`. */
  keep(userId: string, recent: ReadonlyMap<string, ShownRequest>): void {
    const at = this.now();
    for (const [requestId, shown] of recent) {
      const key = keyOf(userId, requestId);
      this.kept.delete(key);
      this.kept.set(key, { shown, at });
    }
    this.prune(at);
  }

  /** What the carousel `requestId` dealt to `userId` showed, while kept. */
  get(userId: string, requestId: string): ShownRequest | undefined {
    const kept = this.kept.get(keyOf(userId, requestId));
    if (kept === undefined) return undefined;
    if (this.now() - kept.at > this.keepMs) return undefined;
    return kept.shown;
  }

  private prune(now: number): void {
    for (const [key, kept] of this.kept) {
      if (this.kept.size <= this.maxKept && now - kept.at <= this.keepMs) return;
      this.kept.delete(key);
    }
  }
}

function keyOf(userId: string, requestId: string): string {
  return JSON.stringify([userId, requestId]);
}
