/**
 * The gateway's side of feedback claims: each click, conversion and watch on an item shown is claimed in Redis
 * (`claimFeedback`, HSETNX kept for the attribution window) so that it counts once on any connection of any
 * replica. Feedback on a carousel of its own connection counts even when its claim fails (Redis refuses writes,
 * MISCONF with its disk full, or does not answer within `CLAIM_WAIT_MS`); such a claim is kept here and written
 * once Redis takes it, retried every `retryMs`. Until then this gateway answers any claim of the same feedback
 * itself (taken), so the same click sent again through another connection, before or after Redis recovers, does
 * not count a second time.
 *
 * Kept claims live in this process: ones not yet written when it stops are gone, and at most `maxKept` are kept
 * (the oldest dropped first), each for the attribution window at most.
 */
import type { FeedbackKind } from '../domain/protocol-messages.ts';
import type { LogLimiter } from '../log/log-limiter.ts';
import type { Logger } from '../log/logger.ts';

/** The claim in Redis: true for the first claim of this feedback (any connection, any replica). */
export type ClaimFeedback = (
  userId: string,
  requestId: string,
  itemId: string,
  kind: FeedbackKind,
) => Promise<boolean>;

export interface FeedbackClaimsOptions {
  claim: ClaimFeedback;
  logger: Logger;
  warnings: LogLimiter;
  /** How often kept claims are tried again (default 1000 ms). */
  retryMs?: number;
  /** How long a kept claim is tried: the attribution window (default 1800 s, `stream.requestTtlSeconds`). */
  keepMs?: number;
  /** Most claims kept at once (default 100,000). */
  maxKept?: number;
  now?: () => number;
}

/** How long feedback on a carousel of its own connection waits for its claim in Redis. */
export const CLAIM_WAIT_MS = 500;

interface KeptClaim {
  key: string;
  userId: string;
  requestId: string;
  itemId: string;
  kind: FeedbackKind;
  since: number;
  /** A write of it is on its way to Redis. */
  writing: boolean;
}

/** Kept claims written to Redis at once, at most, in a round of retries. */
const WRITE_AT_ONCE = 500;

export class FeedbackClaims {
  private readonly kept = new Map<string, KeptClaim>();
  private readonly retryMs: number;
  private readonly keepMs: number;
  private readonly maxKept: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: FeedbackClaimsOptions) {
    this.retryMs = options.retryMs ?? 1000;
    this.keepMs = options.keepMs ?? 1_800_000;
    this.maxKept = options.maxKept ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** Claims kept because Redis did not take them, not written yet. */
  get pending(): number {
    return this.kept.size;
  }

  /**
   * The claim's answer (false at once for a claim this gateway keeps). Used where the feedback does not count
   * when the claim fails: nothing is kept.
   */
  claim(userId: string, requestId: string, itemId: string, kind: FeedbackKind): Promise<boolean> {
    if (this.kept.has(keyOf(userId, requestId, itemId, kind))) return Promise.resolve(false);
    return this.options.claim(userId, requestId, itemId, kind);
  }

  /**
   * The claim's answer within `CLAIM_WAIT_MS`, for feedback that counts when the claim fails: a rejection then,
   * and the claim is kept until Redis has it (an answer to this call that comes later ends it too).
   */
  claimOrKeep(userId: string, requestId: string, itemId: string, kind: FeedbackKind): Promise<boolean> {
    const key = keyOf(userId, requestId, itemId, kind);
    if (this.kept.has(key)) return Promise.resolve(false);
    // Kept from the start: a claim of the same feedback while this one is on its way is answered here.
    const entry: KeptClaim = { key, userId, requestId, itemId, kind, since: this.now(), writing: false };
    this.keep(entry);
    return withinClaimWait(this.write(entry, false));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Claims `entry` in Redis: once answered it is no longer kept (`retried`: a claim kept earlier that another
   * gateway took meanwhile, so both counted it, is warned of); refused or not reached, it waits for a retry.
   */
  private write(entry: KeptClaim, retried: boolean): Promise<boolean> {
    entry.writing = true;
    const { userId, requestId, itemId, kind } = entry;
    const answer = this.options.claim(userId, requestId, itemId, kind);
    answer.then(
      (first) => {
        if (this.kept.get(entry.key) === entry) this.kept.delete(entry.key);
        if (retried && !first) {
          this.options.warnings.warn(
            this.options.logger,
            'feedback claim taken meanwhile',
            { requestId, kind },
            'a feedback claim kept while Redis refused it was taken by another gateway meanwhile: that feedback counted twice',
          );
        }
      },
      () => {
        entry.writing = false;
        this.schedule();
      },
    );
    return answer;
  }

  private keep(entry: KeptClaim): void {
    this.kept.set(entry.key, entry);
    if (this.kept.size <= this.maxKept) return;
    const oldest = this.kept.keys().next().value;
    if (oldest !== undefined) this.kept.delete(oldest);
    this.options.warnings.warn(
      this.options.logger,
      'feedback claims dropped',
      { kept: this.maxKept },
      'too many feedback claims wait for Redis; the oldest is dropped, so its feedback may count again',
    );
  }

  private schedule(): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.retry();
    }, this.retryMs);
    this.timer.unref();
  }

  /**
   * Writes the kept claims, oldest first, `WRITE_AT_ONCE` at a time; a round that Redis refuses in part stops, and
   * the refused claims wait for the next one. Claims older than the attribution window are let go.
   */
  private async retry(): Promise<void> {
    while (!this.closed) {
      const now = this.now();
      const due: KeptClaim[] = [];
      for (const entry of this.kept.values()) {
        if (now - entry.since > this.keepMs) this.kept.delete(entry.key);
        else if (!entry.writing) due.push(entry);
        if (due.length === WRITE_AT_ONCE) break;
      }
      if (due.length === 0) return;
      const answers = await Promise.allSettled(due.map((entry) => this.write(entry, true)));
      if (answers.some((a) => a.status === 'rejected')) return; // scheduled again by the refusal
    }
  }
}

function keyOf(userId: string, requestId: string, itemId: string, kind: FeedbackKind): string {
  return JSON.stringify([userId, requestId, itemId, kind]);
}

/** `claim`'s answer, or a rejection once it has not come within `CLAIM_WAIT_MS`. */
function withinClaimWait(claim: Promise<boolean>): Promise<boolean> {
  return withinMs(claim, CLAIM_WAIT_MS, 'Redis');
}

/**
 * `answer`, or a rejection naming `from` once it has not come within `ms`; `onLate` is called then, before the
 * rejection, so that work chained on `answer` can tell that its caller has been answered already.
 */
export function withinMs<T>(answer: Promise<T>, ms: number, from: string, onLate?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onLate?.();
      reject(new Error(`no answer from ${from} in ${ms} ms`));
    }, ms);
  });
  return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}
