/**
 * What the gateway does with each client message: take a token of the rate limit, check the frame size,
 * validate (protocol.ts), then dispatch to its handler (handlers/: hello, carousel and subscribe, feedback,
 * unsubscribe) or answer a ping. A bad or refused message gets an error reply and the connection stays open;
 * whatever a handler does, its error stays on its connection.
 */
import { type SocketData, sendMessage, takeToken } from './connection.ts';
import { handleCarousel } from './handlers/carousel.ts';
import { handleFeedback } from './handlers/feedback.ts';
import { errorReply, type HandlerDeps, type Socket } from './handlers/handler-deps.ts';
import { handleHello } from './handlers/hello.ts';
import { handleUnsubscribe } from './handlers/unsubscribe.ts';
import { parseClientMessage } from './protocol.ts';
import { FLOOD_FACTOR, overLimit } from './rate-limit.ts';

/** Builds the `message` handler; it decodes the frame synchronously (uWebSockets.js neuters it on return). */
export function createMessageHandler(deps: HandlerDeps): (ws: Socket, frame: ArrayBuffer) => void {
  const { config, metrics, logger } = deps;

  const handle = (ws: Socket, data: SocketData, frame: ArrayBuffer) => {
    const startedNs = process.hrtime.bigint();
    metrics.messages++;
    if (!takeToken(data, config.maxMessagesPerSecond)) {
      metrics.rateLimited++;
      const verdict = overLimit(data, config.maxMessagesPerSecond);
      if (verdict === 'drop') return;
      const closing = verdict === 'close';
      sendMessage(
        ws,
        data,
        errorReply(
          'CROUPIER_ERR_GATEWAY_RATE_LIMITED',
          closing
            ? `more than ${FLOOD_FACTOR} times ${config.maxMessagesPerSecond} messages per second: closing this connection`
            : `more than ${config.maxMessagesPerSecond} messages per second: this message and the rest over the ` +
                'limit in the next second are dropped without an answer; slow down',
          null,
        ),
      );
      if (closing) {
        logger.warn({ connection: data.connectionId, remote: data.remote }, 'closing a flooding connection');
        ws.end(1008, 'message rate far over the limit');
      }
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
      handleHello(deps, ws, data, msg);
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
        handleCarousel(deps, ws, data, msg, startedNs).catch((error: unknown) => failed(ws, data, error));
        return;
      case 'feedback':
        handleFeedback(deps, ws, data, msg);
        return;
      case 'unsubscribe':
        handleUnsubscribe(deps, ws, data, msg);
        return;
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
