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
    if (msg.type === 'subscribe' && !data.subscriptions.has(msg.requestId)) {
      if (data.subscriptions.size >= MAX_SUBSCRIPTIONS) {
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
    }
    const context = mergeContext(data.context, msg.context);
    const filters = msg.filters?.category !== undefined ? { category: msg.filters.category } : undefined;
    try {
      const { decision, message } = await dealer.deal(
        data,
        { requestId: msg.requestId, userId, slots: msg.slots, context, ...(filters ? { filters } : {}) },
        startedNs,
      );
      if (!data.open) return;
      sendCorked(ws, data, message);
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
      sendCorked(ws, data, errorReply('CROUPIER_ERR_GATEWAY_DECISION_FAILED', message, msg.requestId));
    }
  };

  const feedback = (ws: Socket, data: SocketData, msg: FeedbackMessage) => {
    const userId = data.userId;
    if (userId === null) return;
    const base = { requestId: msg.requestId, userId, itemId: msg.itemId };
    if (msg.kind === 'click') {
      const shown = data.recent.get(msg.requestId);
      eventLog.logFeedback({
        kind: 'click',
        ...base,
        slot: shown?.slots.get(msg.itemId) ?? null,
        segment: shown?.segment ?? null,
      });
    } else if (msg.kind === 'conversion') {
      eventLog.logFeedback({ kind: 'conversion', ...base, value: msg.value ?? 0 });
    } else {
      eventLog.logFeedback({ kind: 'watch', ...base, watchTimeMs: msg.watchTimeMs ?? 0 });
    }
    metrics.feedback++;
    sendMessage(ws, data, { type: 'feedback-ack', requestId: msg.requestId, itemId: msg.itemId });
  };

  return (ws, frame) => {
    const startedNs = process.hrtime.bigint();
    const data = ws.getUserData();
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
        void carousel(ws, data, msg, startedNs);
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
}
