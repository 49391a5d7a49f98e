/**
 * Per-connection state of a gateway WebSocket (typed uWebSockets.js user data) and how a message goes out:
 * `send` results are checked, and a congested socket gets no pushes until `drain` says it caught up.
 */
import type { WebSocket } from 'uWebSockets.js';
import type { RequestContext } from '../domain/decision.ts';
import type { ServerMessage } from '../domain/protocol-messages.ts';
import { EMPTY_CONTEXT } from './protocol.ts';

/** What a carousel showed, for the feedback that refers to it. */
export interface ShownRequest {
  segment: string;
  slots: Map<string, number>;
  /** `<kind> <itemId>` of the feedback already taken on this carousel: each kind counts once per item shown. */
  feedbackTaken?: Set<string>;
}

/** A subscribed carousel: re-dealt and pushed when its items' posteriors move. */
export interface Subscription {
  readonly requestId: string;
  readonly socket: WebSocket<SocketData>;
  readonly data: SocketData;
  readonly slots: number;
  readonly context: RequestContext;
  readonly filters: { category?: string } | undefined;
  /** Shown item → posterior mean when it was last dealt. */
  shown: Map<string, number>;
  segment: string;
  lastPushAt: number;
  seq: number;
  timer: NodeJS.Timeout | null;
  /** A push is due but the socket was congested; sent on drain. */
  deferred: boolean;
  active: boolean;
}

export interface SocketData {
  readonly connectionId: number;
  readonly sessionId: string;
  readonly remote: string;
  open: boolean;
  userId: string | null;
  context: RequestContext;
  /** Token bucket of the message rate limit. */
  tokens: number;
  refilledAt: number;
  /** When the last rate-limit answer went out, and the messages dropped over the limit since (rate-limit.ts). */
  limitedSince: number;
  droppedSince: number;
  recent: Map<string, ShownRequest>;
  /**
   * Feedback taken on carousels not in `recent` (checked against the logged impressions), as
   * `<kind> <userId> <requestId> <itemId>`, so that a repeat, pipelined or not, is not counted again (bounded,
   * oldest first).
   */
  feedbackElsewhere: Set<string>;
  /**
   * Feedback of this connection waiting for the record of a carousel another connection or replica dealt, which
   * the topology has not written yet (at most `RECORD_WAITS` at once; past that one read decides).
   */
  recordWaits: number;
  subscriptions: Map<string, Subscription>;
  /**
   * Subscribes being dealt, by request id, each with its own ticket: the limit counts them, so pipelined
   * subscribes cannot pass it, and a deal subscribes only if its ticket is still there when it is done (an
   * unsubscribe, a user switch or a later subscribe of the same id pipelined behind it took the ticket away).
   */
  pendingSubscribes: Map<string, object>;
  congested: boolean;
  /** A send was dropped at the backpressure limit: uWebSockets.js is closing this slow client. */
  overflowed: boolean;
  /** The hello asked for propensities in the carousels (they are then computed before the reply). */
  propensities: boolean;
  /** The hello asked for the logged candidate sets in the carousels (recordings for shadow tests). */
  candidates: boolean;
}

export const RECENT_REQUESTS = 256;
/** Feedback on carousels not in `recent` remembered per connection (SocketData.feedbackElsewhere). */
export const FEEDBACK_ELSEWHERE = 1024;
/** Feedback per connection waiting at once for a carousel's record to be written (SocketData.recordWaits). */
export const RECORD_WAITS = 32;
export const MAX_SUBSCRIPTIONS = 4;

export function newSocketData(
  connectionId: number,
  sessionId: string,
  remote: string,
  burst: number,
): SocketData {
  return {
    connectionId,
    sessionId,
    remote,
    open: false,
    userId: null,
    context: EMPTY_CONTEXT,
    tokens: burst,
    refilledAt: Date.now(),
    limitedSince: 0,
    droppedSince: 0,
    recent: new Map(),
    feedbackElsewhere: new Set(),
    recordWaits: 0,
    subscriptions: new Map(),
    pendingSubscribes: new Map(),
    congested: false,
    overflowed: false,
    propensities: false,
    candidates: false,
  };
}

/** Takes one message from the connection's budget (`perSecond`, bursts up to one second's worth). */
export function takeToken(data: SocketData, perSecond: number, now = Date.now()): boolean {
  const elapsed = now - data.refilledAt;
  if (elapsed > 0) {
    data.tokens = Math.min(perSecond, data.tokens + (elapsed * perSecond) / 1000);
    data.refilledAt = now;
  }
  if (data.tokens < 1) return false;
  data.tokens -= 1;
  return true;
}

/** Remembers what a request showed (bounded: the oldest is forgotten first). */
export function rememberShown(data: SocketData, requestId: string, shown: ShownRequest): void {
  data.recent.delete(requestId);
  data.recent.set(requestId, shown);
  if (data.recent.size > RECENT_REQUESTS) {
    const oldest = data.recent.keys().next().value;
    if (oldest !== undefined) data.recent.delete(oldest);
  }
}

export type SendOutcome = 'sent' | 'buffered' | 'dropped' | 'closed';

/**
 * Sends one message. `buffered` means uWebSockets.js queued it under backpressure (it will go out; the socket
 * is marked congested until drain); `dropped` means the backpressure limit was hit, and
 * `closeOnBackpressureLimit` closes the socket.
 */
export function sendMessage(
  ws: WebSocket<SocketData>,
  data: SocketData,
  message: ServerMessage,
): SendOutcome {
  if (!data.open) return 'closed';
  const status = ws.send(JSON.stringify(message), false);
  if (status === 1) return 'sent';
  if (status === 0) {
    data.congested = true;
    return 'buffered';
  }
  data.overflowed = true;
  return 'dropped';
}

/**
 * Sends from outside the handler's synchronous part (after an await): corked, so one syscall. `data` is the
 * socket's user data captured before the await: a closed socket must not be touched at all.
 */
export function sendCorked(ws: WebSocket<SocketData>, data: SocketData, message: ServerMessage): SendOutcome {
  if (!data.open) return 'closed';
  let outcome: SendOutcome = 'closed';
  ws.cork(() => {
    outcome = sendMessage(ws, data, message);
  });
  return outcome;
}
