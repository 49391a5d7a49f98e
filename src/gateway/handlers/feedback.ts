/**
 * `feedback`: logged only for an item the referenced carousel showed this user, and always acknowledged
 * (`counted: false` when it was not logged). A carousel of this connection is checked in memory; any other
 * (a reconnect, or an id nobody issued) against the logged impressions.
 */
import type { FeedbackMessage } from '../../domain/protocol-messages.ts';
import { type SocketData, sendCorked } from '../connection.ts';
import type { HandlerDeps, Socket } from './handler-deps.ts';

export function handleFeedback(deps: HandlerDeps, ws: Socket, data: SocketData, msg: FeedbackMessage): void {
  const userId = data.userId;
  if (userId === null) return;
  const shown = data.recent.get(msg.requestId);
  const slot = shown?.slots.get(msg.itemId);
  if (shown !== undefined && slot !== undefined) {
    logFeedback(deps, userId, msg, slot, shown.segment);
    ack(deps, ws, data, msg, true);
    return;
  }
  // Not a carousel of this connection (a reconnect, or an id nobody issued): the logged impressions decide.
  const check =
    shown === undefined && deps.wasShown ? deps.wasShown(userId, msg.requestId, msg.itemId) : null;
  if (check === null) {
    ack(deps, ws, data, msg, false);
    return;
  }
  check.then(
    (ok) => {
      if (ok) logFeedback(deps, userId, msg, null, null);
      ack(deps, ws, data, msg, ok);
    },
    (error: unknown) => {
      deps.logger.warn(
        { err: error, requestId: msg.requestId },
        'checking feedback against the logged impressions failed',
      );
      ack(deps, ws, data, msg, false);
    },
  );
}

/** Logs feedback on an item the carousel showed. */
function logFeedback(
  deps: HandlerDeps,
  userId: string,
  msg: FeedbackMessage,
  slot: number | null,
  segment: string | null,
): void {
  const { eventLog, metrics } = deps;
  const base = { requestId: msg.requestId, userId, itemId: msg.itemId };
  if (msg.kind === 'click') eventLog.logFeedback({ kind: 'click', ...base, slot, segment });
  else if (msg.kind === 'conversion')
    eventLog.logFeedback({ kind: 'conversion', ...base, value: msg.value ?? 0 });
  else eventLog.logFeedback({ kind: 'watch', ...base, watchTimeMs: msg.watchTimeMs ?? 0 });
  metrics.feedback++;
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
