/**
 * What the gateway does with each client message: validate (protocol.ts), then hello, carousel, feedback,
 * subscribe, unsubscribe or ping. A bad or refused message gets an error reply and the connection stays open.
 */
import type { WebSocket } from 'uWebSockets.js';
import type { Config } from '../config/index.ts';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import { verifyClientToken } from './auth.ts';
import {
  MAX_SUBSCRIPTIONS,
  type SocketData,
  type Subscription,
  sendCorked,
  sendMessage,
  takeToken,
} from './connection.ts';
import type { Dealer } from './dealer.ts';
import type { EventLog } from './event-log.ts';
import type { GatewayMetrics } from './metrics.ts';
import {
  type CarouselRequestMessage,
  EMPTY_CONTEXT,
  type ErrorMessage,
  type FeedbackMessage,
  type HelloMessage,
  mergeContext,
  parseClientMessage,
  type SubscribeMessage,
} from './protocol.ts';
import type { SubscriptionHub } from './subscriptions.ts';

export interface HandlerDeps {
  config: Config['gateway'];
  dealer: Dealer;
  eventLog: EventLog;
  hub: SubscriptionHub;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Loads a user's activity into the cache (fire and forget). */
  loadUser?: (userId: string) => Promise<void>;
  /**
   * Whether the logged impressions of `requestId` show `itemId` to `userId` (the request's record that the
   * topology keeps for the attribution window): how feedback is checked after a reconnect.
   */
  wasShown?: (userId: string, requestId: string, itemId: string) => Promise<boolean>;
}

type Socket = WebSocket<SocketData>;

function errorReply(code: string, message: string, requestId: string | null): ErrorMessage {
  return { type: 'error', code, message, requestId };
}

/** Builds the `message` handler; it decodes the frame synchronously (uWebSockets.js neuters it on return). */
export function createMessageHandler(deps: HandlerDeps): (ws: Socket, frame: ArrayBuffer) => void {
  const { config, dealer, eventLog, hub, metrics, logger } = deps;

  const hello = (ws: Socket, data: SocketData, msg: HelloMessage) => {
    if (!config.authDisabled) {
      if (msg.token === undefined) {
        metrics.authFailures++;
        sendMessage(
          ws,
          data,
          errorReply('CROUPIER_ERR_GATEWAY_AUTH', 'hello needs a token: auth is on', null),
        );
        return;
      }
      try {
        const { userId } = verifyClientToken(config.authSecret ?? '', msg.token);
        if (userId !== msg.userId) {
          throw new CroupierError(
            'CROUPIER_ERR_GATEWAY_AUTH',
            `the token is for another user than "${msg.userId}"`,
          );
        }
      } catch (error) {
        metrics.authFailures++;
        const message = error instanceof CroupierError ? error.message : 'the token is invalid';
        sendMessage(ws, data, errorReply('CROUPIER_ERR_GATEWAY_AUTH', message, null));
        return;
      }
    }
    if (data.userId !== null && data.userId !== msg.userId) {
      for (const sub of data.subscriptions.values()) hub.cancel(sub);
      data.subscriptions.clear();
      data.pendingSubscribes.clear();
      data.recent.clear();
    }
    data.userId = msg.userId;
    data.context = mergeContext(EMPTY_CONTEXT, msg.context);
    deps.loadUser?.(msg.userId).catch((error: unknown) => {
      logger.warn({ err: error, userId: msg.userId }, 'loading the user into the cache failed');
    });
    sendMessage(ws, data, { type: 'welcome', sessionId: data.sessionId, userId: msg.userId });
  };

  const carousel = async (
    ws: Socket,
    data: SocketData,
    msg: CarouselRequestMessage | SubscribeMessage,
    startedNs: bigint,
  ) => {
    const userId = data.userId;
    if (userId === null) return;
    const reserving =
      msg.type === 'subscribe' &&
      !data.subscriptions.has(msg.requestId) &&
      !data.pendingSubscribes.has(msg.requestId);
    if (reserving) {
      if (data.subscriptions.size + data.pendingSubscribes.size >= MAX_SUBSCRIPTIONS) {
        sendMessage(
          ws,
          data,
          errorReply(
            'CROUPIER_ERR_GATEWAY_BAD_MESSAGE',
            `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection: unsubscribe one first`,
            msg.requestId,
          ),
        );
        return;
      }
      data.pendingSubscribes.add(msg.requestId);
    }
    const context = mergeContext(data.context, msg.context);
    const filters = msg.filters?.category !== undefined ? { category: msg.filters.category } : undefined;
    try {
      const dealt = await dealer.deal(
        data,
        { requestId: msg.requestId, userId, slots: msg.slots, context, ...(filters ? { filters } : {}) },
        startedNs,
      );
      const { decision } = dealt;
      dealer.delivered(dealt, data.open ? sendCorked(ws, data, dealt.message) : 'closed');
      if (!data.open) return;
      if (msg.type === 'subscribe') {
        const previous = data.subscriptions.get(msg.requestId);
        if (previous !== undefined) hub.cancel(previous);
        const sub: Subscription = {
          requestId: msg.requestId,
          socket: ws,
          data,
          slots: msg.slots,
          context,
          filters,
          shown: new Map(),
          segment: decision.segment,
          lastPushAt: Date.now(),
          seq: 0,
          timer: null,
          deferred: false,
          active: true,
        };
        data.subscriptions.set(msg.requestId, sub);
        hub.track(
          sub,
          decision.items.map((item) => item.itemId),
          decision.segment,
        );
      }
    } catch (error) {
      metrics.decisionErrors++;
      if (!(error instanceof CroupierError))
        logger.error({ err: error, requestId: msg.requestId }, 'decision failed');
      const message =
        error instanceof CroupierError ? error.message : 'the carousel could not be decided; try again';
      if (data.open)
        sendCorked(ws, data, errorReply('CROUPIER_ERR_GATEWAY_DECISION_FAILED', message, msg.requestId));
    } finally {
      if (reserving) data.pendingSubscribes.delete(msg.requestId);
    }
  };

  /** Logs feedback on an item the carousel showed; anything else is acknowledged as not counted. */
  const logFeedback = (userId: string, msg: FeedbackMessage, slot: number | null, segment: string | null) => {
    const base = { requestId: msg.requestId, userId, itemId: msg.itemId };
    if (msg.kind === 'click') eventLog.logFeedback({ kind: 'click', ...base, slot, segment });
    else if (msg.kind === 'conversion')
      eventLog.logFeedback({ kind: 'conversion', ...base, value: msg.value ?? 0 });
    else eventLog.logFeedback({ kind: 'watch', ...base, watchTimeMs: msg.watchTimeMs ?? 0 });
    metrics.feedback++;
  };

  const ack = (ws: Socket, data: SocketData, msg: FeedbackMessage, counted: boolean) => {
    if (!counted) metrics.uncountedFeedback++;
    if (data.open) {
      sendCorked(ws, data, {
        type: 'feedback-ack',
        requestId: msg.requestId,
        itemId: msg.itemId,
        ...(counted ? {} : { counted: false }),
      });
    }
  };

  const feedback = (ws: Socket, data: SocketData, msg: FeedbackMessage) => {
    const userId = data.userId;
    if (userId === null) return;
    const shown = data.recent.get(msg.requestId);
    const slot = shown?.slots.get(msg.itemId);
    if (shown !== undefined && slot !== undefined) {
      logFeedback(userId, msg, slot, shown.segment);
      ack(ws, data, msg, true);
      return;
    }
    // Not a carousel of this connection (a reconnect, or an id nobody issued): the logged impressions decide.
    const check =
      shown === undefined && deps.wasShown ? deps.wasShown(userId, msg.requestId, msg.itemId) : null;
    if (check === null) {
      ack(ws, data, msg, false);
      return;
    }
    check.then(
      (ok) => {
        if (ok) logFeedback(userId, msg, null, null);
        ack(ws, data, msg, ok);
      },
      (error: unknown) => {
        logger.warn(
          { err: error, requestId: msg.requestId },
          'checking feedback against the logged impressions failed',
        );
        ack(ws, data, msg, false);
      },
    );
  };

  const handle = (ws: Socket, data: SocketData, frame: ArrayBuffer) => {
    const startedNs = process.hrtime.bigint();
    metrics.messages++;
    if (!takeToken(data, config.maxMessagesPerSecond)) {
      metrics.rateLimited++;
      sendMessage(
        ws,
        data,
        errorReply(
          'CROUPIER_ERR_GATEWAY_RATE_LIMITED',
          `more than ${config.maxMessagesPerSecond} messages per second: this message was dropped, slow down`,
          null,
        ),
      );
      return;
    }
    if (frame.byteLength > config.maxFrameBytes) {
      metrics.badMessages++;
      sendMessage(
        ws,
        data,
        errorReply(
          'CROUPIER_ERR_GATEWAY_FRAME_TOO_LARGE',
          `a frame of ${frame.byteLength} bytes is over gateway.maxFrameBytes (${config.maxFrameBytes}); closing`,
          null,
        ),
      );
      ws.end(1009, 'frame too large');
      return;
    }
    const parsed = parseClientMessage(Buffer.from(frame).toString('utf8'));
    if (!parsed.ok) {
      metrics.badMessages++;
      sendMessage(ws, data, errorReply(parsed.code, parsed.message, parsed.requestId));
      return;
    }
    const msg = parsed.message;
    if (msg.type === 'ping') {
      sendMessage(ws, data, { type: 'pong' });
      return;
    }
    if (msg.type === 'hello') {
      hello(ws, data, msg);
      return;
    }
    if (data.userId === null) {
      const requestId = 'requestId' in msg && typeof msg.requestId === 'string' ? msg.requestId : null;
      sendMessage(
        ws,
        data,
        errorReply('CROUPIER_ERR_GATEWAY_HELLO_REQUIRED', `send hello before ${msg.type}`, requestId),
      );
      return;
    }
    switch (msg.type) {
      case 'carousel':
      case 'subscribe':
        carousel(ws, data, msg, startedNs).catch((error: unknown) => failed(ws, data, error));
        return;
      case 'feedback':
        feedback(ws, data, msg);
        return;
      case 'unsubscribe': {
        for (const [requestId, sub] of data.subscriptions) {
          if (msg.requestId !== undefined && msg.requestId !== requestId) continue;
          hub.cancel(sub);
          data.subscriptions.delete(requestId);
        }
        sendMessage(ws, data, { type: 'unsubscribed', requestId: msg.requestId ?? null });
        return;
      }
    }
  };

  /** Last line of defence: whatever a message does, the error stays on its connection. */
  const failed = (ws: Socket, data: SocketData, error: unknown) => {
    metrics.handlerErrors++;
    logger.error({ err: error, connection: data.connectionId }, 'a message handler failed');
    if (!data.open) return;
    try {
      sendMessage(
        ws,
        data,
        errorReply('CROUPIER_ERR_GATEWAY_INTERNAL', 'the message could not be handled; try again', null),
      );
    } catch {
      // the socket is gone: nothing more to tell it
    }
  };

  return (ws, frame) => {
    const data = ws.getUserData();
    try {
      handle(ws, data, frame);
    } catch (error) {
      failed(ws, data, error);
    }
  };
}
