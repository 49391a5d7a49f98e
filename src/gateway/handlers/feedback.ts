/**
 * `feedback`: logged only for an item the referenced carousel showed this user, and each kind (a click, a
 * conversion, a watch) at most once per item shown; always acknowledged (`counted: false` when it was not logged).
 * A carousel of this connection is checked in memory; any other (a reconnect, or an id nobody issued) against the
 * logged impressions. Each is also claimed in Redis (`claims`), so that reconnecting, or saying hello as another user
 * and back, does not make it count again; when Redis refuses the claim or does not answer in time, feedback on a
 * carousel of this connection counts on the connection's own record and its claim is kept until Redis has it
 * (feedback-claims.ts; the topology's range checks bound what that lets through). Feedback on a carousel of another
 * connection or replica whose record the topology has not written yet (a click through a new connection can come
 * before it) reads the record again until `gateway.feedbackRecordWaitMs`; each read and the claim wait on Redis for
 * `ELSEWHERE_WAIT_MS` at most.
 * A counted acknowledgement goes once Kafka has the record, so no acknowledged feedback is lost when the process
 * dies.
 */
import type { FeedbackMessage } from '../../domain/protocol-messages.ts';
import type { ShownCheck } from '../../domain/state-deltas.ts';
import { FEEDBACK_ELSEWHERE, RECORD_WAITS, type SocketData, sendCorked } from '../connection.ts';
import { withinMs } from '../feedback-claims.ts';
import type { HandlerDeps, Socket } from './handler-deps.ts';

/**
 * How long feedback on a carousel of another connection waits for Redis (the check against the logged impressions
 * and the claim) before it is answered `counted: false`.
 */
export const ELSEWHERE_WAIT_MS = 2_000;

/** The first pause between two reads of a carousel's record not written yet; each pause doubles, to at most 500 ms. */
const RECORD_FIRST_PAUSE_MS = 25;
const RECORD_MAX_PAUSE_MS = 500;

export function handleFeedback(deps: HandlerDeps, ws: Socket, data: SocketData, msg: FeedbackMessage): void {
  const userId = data.userId;
  if (userId === null) return;
  // A carousel of this connection, or of one of this gateway's that closed (a reconnect): checked in memory.
  const shown = data.recent.get(msg.requestId) ?? deps.closedCarousels?.get(userId, msg.requestId);
  const slot = shown?.slots.get(msg.itemId);
  if (shown !== undefined && slot !== undefined) {
    // A repeat of one kind on one shown item (300 pipelined clicks made 300 clicks on one impression; 50
    // conversions of 1e9 and 40 seven-day watches were all counted).
    const taken = `${msg.kind} ${msg.itemId}`;
    if (shown.feedbackTaken?.has(taken)) {
      ack(deps, ws, data, msg, false);
      return;
    }
    shown.feedbackTaken ??= new Set();
    shown.feedbackTaken.add(taken);
    const segment = shown.segment;
    if (deps.claims) {
      logWhen(
        deps,
        ws,
        data,
        msg,
        deps.claims.claimOrKeep(userId, msg.requestId, msg.itemId, msg.kind),
        () => logFeedback(deps, userId, msg, slot, segment),
        {
          says: `claiming a ${msg.kind} in Redis failed; counted once on this connection, its claim kept`,
          counts: true,
        },
      );
      return;
    }
    ackOnceLogged(deps, ws, data, msg, logFeedback(deps, userId, msg, slot, segment));
    return;
  }
  // Not a carousel of this connection (a reconnect, or an id nobody issued): the logged impressions decide.
  const wasShown = deps.wasShown;
  if (shown !== undefined || wasShown === undefined || !takeFeedbackElsewhere(data, userId, msg)) {
    ack(deps, ws, data, msg, false);
    return;
  }
  // A carousel another connection or replica dealt: its record may not be written yet. At most RECORD_WAITS of a
  // connection's feedback wait for one; past that one read decides.
  // Each read and the claim wait on Redis for ELSEWHERE_WAIT_MS at most: while Redis does not answer (down,
  // stopped) the feedback is answered `counted: false` then, and its claim is not asked for after that, so a resend
  // counts. A claim already on its way that Redis takes later is logged then: the feedback counts once, and a resend
  // finds it claimed.
  let answered = false;
  const late = () => {
    answered = true;
  };
  const waitMs = data.recordWaits < RECORD_WAITS ? deps.config.feedbackRecordWaitMs : 0;
  data.recordWaits++;
  const check = shownOnceWritten(
    () => withinMs(wasShown(userId, msg.requestId, msg.itemId), ELSEWHERE_WAIT_MS, 'Redis', late),
    waitMs,
    () => answered,
  ).finally(() => {
    data.recordWaits--;
  });
  const claims = deps.claims;
  const bounded = claims
    ? check.then(
        (ok) =>
          ok &&
          !answered &&
          withinMs(
            claims.claim(userId, msg.requestId, msg.itemId, msg.kind).then((first) => {
              if (first && answered) {
                logFeedback(deps, userId, msg, null, null).catch(() => undefined);
              }
              return first;
            }),
            ELSEWHERE_WAIT_MS,
            'Redis',
            late,
          ),
      )
    : check;
  logWhen(deps, ws, data, msg, bounded, () => logFeedback(deps, userId, msg, null, null), {
    says: 'checking feedback against the logged impressions failed',
    counts: false,
  });
}

/**
 * Logs the feedback and acknowledges it once Kafka has it when `decision` says it counts; acknowledges it
 * `counted: false` when it does not. A decision that failed is logged with `failure.says`, and the feedback
 * counts only when `failure.counts`.
 */
function logWhen(
  deps: HandlerDeps,
  ws: Socket,
  data: SocketData,
  msg: FeedbackMessage,
  decision: Promise<boolean>,
  log: () => Promise<boolean>,
  failure: { says: string; counts: boolean },
): void {
  decision.then(
    (counts) => {
      if (counts) ackOnceLogged(deps, ws, data, msg, log());
      else ack(deps, ws, data, msg, false);
    },
    (error: unknown) => {
      deps.warnings.warn(deps.logger, failure.says, { err: error, requestId: msg.requestId }, failure.says);
      if (failure.counts) ackOnceLogged(deps, ws, data, msg, log());
      else ack(deps, ws, data, msg, false);
    },
  );
}

/**
 * Whether the carousel's record shows the item, reading it again while there is none (the topology folds a
 * carousel tens of milliseconds after it was dealt, longer under load) until `waitMs` has passed or `stop()`.
 */
async function shownOnceWritten(read: () => Promise<ShownCheck>, waitMs: number, stop: () => boolean) {
  const until = Date.now() + waitMs;
  let pause = RECORD_FIRST_PAUSE_MS;
  for (;;) {
    const found = await read();
    if (found !== 'no record') return found === 'shown';
    if (stop() || Date.now() + pause > until) return false;
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, RECORD_MAX_PAUSE_MS);
  }
}

/**
 * Whether feedback on a carousel not in `recent` may go on to the check against the logged impressions: each kind
 * only the first time on this connection, taken before the check so that a repeat pipelined behind it is refused.
 */
function takeFeedbackElsewhere(data: SocketData, userId: string, msg: FeedbackMessage): boolean {
  const key = `${msg.kind} ${userId} ${msg.requestId} ${msg.itemId}`;
  if (data.feedbackElsewhere.has(key)) return false;
  data.feedbackElsewhere.add(key);
  if (data.feedbackElsewhere.size > FEEDBACK_ELSEWHERE) {
    const oldest = data.feedbackElsewhere.values().next().value;
    if (oldest !== undefined) data.feedbackElsewhere.delete(oldest);
  }
  return true;
}

/** Logs feedback on an item the carousel showed; resolves whether Kafka has it. */
function logFeedback(
  deps: HandlerDeps,
  userId: string,
  msg: FeedbackMessage,
  slot: number | null,
  segment: string | null,
): Promise<boolean> {
  const { eventLog, metrics } = deps;
  const base = { requestId: msg.requestId, userId, itemId: msg.itemId };
  metrics.feedback++;
  if (msg.kind === 'click') return eventLog.logFeedback({ kind: 'click', ...base, slot, segment });
  if (msg.kind === 'conversion') {
    return eventLog.logFeedback({ kind: 'conversion', ...base, value: msg.value ?? 0 });
  }
  return eventLog.logFeedback({ kind: 'watch', ...base, watchTimeMs: msg.watchTimeMs ?? 0 });
}

/** Acknowledges once Kafka has the record (`counted: false` when it never got there). */
function ackOnceLogged(
  deps: HandlerDeps,
  ws: Socket,
  data: SocketData,
  msg: FeedbackMessage,
  inKafka: Promise<boolean>,
): void {
  inKafka.then(
    (counted) => ack(deps, ws, data, msg, counted),
    () => ack(deps, ws, data, msg, false),
  );
}

function ack(deps: HandlerDeps, ws: Socket, data: SocketData, msg: FeedbackMessage, counted: boolean): void {
  if (!counted) deps.metrics.uncountedFeedback++;
  if (data.open) {
    sendCorked(ws, data, {
      type: 'feedback-ack',
      requestId: msg.requestId,
      itemId: msg.itemId,
      ...(counted ? {} : { counted: false }),
    });
  }
}
