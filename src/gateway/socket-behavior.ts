/**
 * The gateway's WebSocket behaviour for uWebSockets.js: limits set on purpose (frame size with a grace to
 * answer an oversized frame, `maxBackpressure` with `closeOnBackpressureLimit`, idle timeout), upgrades
 * refused past `maxConnections` or while closing, typed per-socket user data, pushes resumed on `drain`, and a
 * closed socket's subscriptions ended.
 */
import type * as Uws from 'uWebSockets.js';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/index.ts';
import type { ClosedCarousels } from './closed-carousels.ts';
import { newSocketData, type SocketData } from './connection.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { SubscriptionHub } from './subscriptions.ts';

/** How far past `maxFrameBytes` a frame is still read, to answer it with an error before closing. */
const FRAME_GRACE_BYTES = 64 * 1024;

export interface SocketBehaviorDeps {
  uws: typeof Uws;
  config: Config['gateway'];
  metrics: GatewayMetrics;
  hub: SubscriptionHub;
  onMessage: (ws: Uws.WebSocket<SocketData>, frame: ArrayBuffer) => void;
  /** The open sockets: the behaviour adds each one on open and removes it on close. */
  sockets: Set<Uws.WebSocket<SocketData>>;
  /** Whether the gateway is shutting down (upgrades are refused). */
  isClosing: () => boolean;
  /**
   * Open WebSockets past which upgrades are refused: `config.maxConnections`, or fewer under the open-file limit,
   * counted again when that limit changes (descriptor-limit.ts).
   */
  maxConnections: () => number;
  /** Where a closed connection's carousels are kept, for feedback sent after a reconnect. */
  closedCarousels?: ClosedCarousels;
}

export function socketBehavior(deps: SocketBehaviorDeps): Uws.WebSocketBehavior<SocketData> {
  const { uws, config, metrics, hub, onMessage, sockets } = deps;
  let nextConnectionId = 1;
  return {
    compression: uws.DISABLED,
    // Frames up to maxFrameBytes are read; a bit past it the client hears why before the close (1009);
    // far past it uWebSockets.js drops the connection without reading on.
    maxPayloadLength: config.maxFrameBytes + FRAME_GRACE_BYTES,
    maxBackpressure: config.maxBackpressureBytes,
    // A client that cannot keep up with its replies past maxBackpressure is disconnected, not buffered forever.
    closeOnBackpressureLimit: true as unknown as number,
    idleTimeout: config.idleTimeoutSeconds === 0 ? 0 : Math.max(8, config.idleTimeoutSeconds),
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      if (deps.isClosing() || sockets.size >= deps.maxConnections()) {
        metrics.connectionsRejected++;
        // The connection is closed with the answer, so a refused client holds no descriptor.
        res.writeStatus('503 Service Unavailable').end('too many connections\n', true);
        return;
      }
      const data = newSocketData(
        nextConnectionId++,
        randomUUID(),
        Buffer.from(res.getRemoteAddressAsText()).toString(),
        config.maxMessagesPerSecond,
      );
      res.upgrade(
        data,
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      const data = ws.getUserData();
      data.open = true;
      sockets.add(ws);
    },
    message: (ws, frame) => onMessage(ws, frame),
    drain: (ws) => {
      const data = ws.getUserData();
      if (ws.getBufferedAmount() < config.maxBackpressureBytes / 2) {
        data.congested = false;
        hub.resume(data.subscriptions.values());
      }
    },
    close: (ws) => {
      const data = ws.getUserData();
      data.open = false;
      sockets.delete(ws);
      hub.cancelAll(data);
      if (data.userId !== null) deps.closedCarousels?.keep(data.userId, data.recent);
      if (data.overflowed) metrics.backpressureCloses++;
    },
  };
}
