/**
 * The carousel gateway: one uWebSockets.js app serving the WebSocket protocol (docs/protocol.md) and the
 * HTTP endpoints on one port. `startGateway` checks that the native uWebSockets.js binary is in use, listens,
 * and returns a handle whose `close()` stops listening and closes every connection.
 */

import type * as Uws from 'uWebSockets.js';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/index.ts';
import type { StateView } from '../decision/types.ts';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import type { LiveStateFreshness, StateChangeListener } from '../state/live-reader/index.ts';
import { newSocketData, type SocketData } from './connection.ts';
import { createDealer, type GatewayDecider } from './dealer.ts';
import type { EventLog } from './event-log.ts';
import { createMessageHandler } from './handlers.ts';
import { type AdminHooks, type Readiness, registerHttpRoutes } from './http-routes.ts';
import { counterLines, GatewayMetrics, gaugeLines, labelValue } from './metrics.ts';
import { assertNativeUws } from './native-check.ts';
import { SubscriptionHub } from './subscriptions.ts';

/** The state the gateway reads: a `StateView`, plus what the change-feed cache offers beyond it. */
export type GatewayView = StateView & {
  onChange?: (listener: StateChangeListener) => () => void;
  loadUser?: (userId: string) => Promise<void>;
  wasShown?: (userId: string, requestId: string, itemId: string) => Promise<boolean>;
  userIds?: (limit: number) => string[];
  freshness?: () => LiveStateFreshness;
};

export interface GatewayOptions {
  /** The `gateway` section of the config. */
  config: Config['gateway'];
  decider: GatewayDecider;
  view: GatewayView;
  eventLog: EventLog;
  logger: Logger;
  /** Model reload and experiment config behind the admin token. */
  admin?: AdminHooks;
  /** The cache is considered stale (not ready) past this sync age (default 5 s). */
  maxStalenessMs?: number;
}

export interface GatewayHandle {
  /** The port listened on (the configured one, or the one the OS chose for port 0). */
  readonly port: number;
  /** `http://host:port/` of the page. */
  readonly url: string;
  /** Counters and histograms; feed `metrics.batchSize` from the scorer. */
  readonly metrics: GatewayMetrics;
  close(): Promise<void>;
}

/** How far past `maxFrameBytes` a frame is still read, to answer it with an error before closing. */
const FRAME_GRACE_BYTES = 64 * 1024;

export async function startGateway(options: GatewayOptions): Promise<GatewayHandle> {
  const { config, decider, view, eventLog } = options;
  const logger = options.logger.child({ component: 'gateway' });
  const uws = (await import('uWebSockets.js')).default as typeof Uws;
  assertNativeUws(uws);
  if (!config.authDisabled && (config.authSecret === undefined || config.authSecret === '')) {
    throw new CroupierError(
      'CROUPIER_ERR_GATEWAY_CONFIG',
      'gateway auth is on but gateway.authSecret is empty: set GATEWAY_AUTH_SECRET, or GATEWAY_AUTH_DISABLED=true for a demo',
      { key: 'gateway.authSecret' },
    );
  }
  if (config.authDisabled) {
    logger.warn('client authentication is OFF (gateway.authDisabled): any client may act as any user');
  }

  const metrics = new GatewayMetrics();
  const dealer = createDealer({ decider, view, eventLog, metrics });
  const hub = new SubscriptionHub({
    view,
    dealer,
    metrics,
    logger,
    minIntervalMs: config.pushMinIntervalMs,
    minShift: config.pushMinPosteriorShift,
  });
  const stopListening = view.onChange?.((change) => hub.onChange(change));
  const onMessage = createMessageHandler({
    config,
    dealer,
    eventLog,
    hub,
    metrics,
    logger,
    ...(view.loadUser ? { loadUser: view.loadUser } : {}),
    ...(view.wasShown ? { wasShown: view.wasShown } : {}),
  });
  const sockets = new Set<Uws.WebSocket<SocketData>>();
  const pendingUpgrades = 0;
  let nextConnectionId = 1;
  let closing = false;

  const maxStalenessMs = options.maxStalenessMs ?? 5000;
  const readiness = (): Readiness => {
    const reasons: string[] = [];
    if (closing) reasons.push('shutting down');
    const fresh = view.freshness?.();
    if (fresh !== undefined && fresh.lastSyncAgeMs > maxStalenessMs) {
      reasons.push(`state cache last synced ${fresh.lastSyncAgeMs} ms ago`);
    }
    return { ready: reasons.length === 0, reasons };
  };

  const metricsText = (): string => {
    const events = eventLog.stats();
    const fresh = view.freshness?.();
    const parts = [
      metrics.decisionLatency.render(),
      metrics.batchSize.render(),
      counterLines('croupier_decisions_total', 'Carousels dealt (requests and pushes).', metrics.decisions),
      gaugeLines(
        'croupier_decisions_per_second',
        'Carousels dealt per second, last 10 s.',
        metrics.decisionRate.perSecond(),
      ),
      counterLines('croupier_pushes_total', 'Carousels pushed to subscriptions.', metrics.pushes),
      counterLines('croupier_decision_errors_total', 'Decisions that failed.', metrics.decisionErrors),
      counterLines('croupier_feedback_total', 'Feedback messages accepted.', metrics.feedback),
      counterLines('croupier_messages_total', 'WebSocket messages received.', metrics.messages),
      counterLines('croupier_bad_messages_total', 'Messages refused as malformed.', metrics.badMessages),
      counterLines(
        'croupier_undelivered_carousels_total',
        'Carousels dealt but not delivered (not logged as impressions).',
        metrics.undelivered,
      ),
      counterLines(
        'croupier_uncounted_feedback_total',
        'Feedback on items the referenced carousel did not show (acknowledged, not folded).',
        metrics.uncountedFeedback,
      ),
      counterLines(
        'croupier_handler_errors_total',
        'Messages whose handler failed unexpectedly.',
        metrics.handlerErrors,
      ),
      counterLines(
        'croupier_rate_limited_total',
        'Messages dropped by the per-connection rate limit.',
        metrics.rateLimited,
      ),
      counterLines(
        'croupier_auth_failures_total',
        'Hellos refused for a missing or bad token.',
        metrics.authFailures,
      ),
      counterLines(
        'croupier_backpressure_disconnects_total',
        'Slow clients disconnected past gateway.maxBackpressureBytes.',
        metrics.backpressureCloses,
      ),
      counterLines(
        'croupier_connections_rejected_total',
        'Upgrades refused at gateway.maxConnections.',
        metrics.connectionsRejected,
      ),
      gaugeLines('croupier_connections', 'Open WebSocket connections.', sockets.size),
      gaugeLines('croupier_subscriptions', 'Active carousel subscriptions.', hub.size),
      counterLines('croupier_events_sent_total', 'Events the event log delivered to Kafka.', events.sent),
      counterLines('croupier_events_shed_total', 'Events shed because Kafka did not keep up.', events.shed),
      counterLines(
        'croupier_events_invalid_total',
        'Events dropped because they could not be encoded.',
        events.invalid,
      ),
      gaugeLines('croupier_events_queued', 'Events waiting for Kafka.', events.queued),
      gaugeLines(
        'croupier_event_log_connected',
        'Whether the event log producer is connected.',
        events.connected ? 1 : 0,
      ),
    ];
    if (metrics.modelVersion !== '') {
      parts.push(
        gaugeLines(
          'croupier_model_info',
          'Model version serving.',
          1,
          `{version="${labelValue(metrics.modelVersion)}"}`,
        ),
      );
    }
    if (fresh !== undefined) {
      parts.push(
        gaugeLines(
          'croupier_cache_sync_age_seconds',
          'Time since the cache last read every change feed.',
          fresh.lastSyncAgeMs / 1000,
        ),
        gaugeLines(
          'croupier_cache_apply_delay_seconds',
          'Delay from a change-feed entry being written to the cache applying it (newest entry).',
          (fresh.lastApplyDelayMs ?? 0) / 1000,
        ),
        counterLines(
          'croupier_cache_entries_applied_total',
          'Change-feed entries applied.',
          fresh.entriesApplied,
        ),
        counterLines(
          'croupier_cache_resnapshots_total',
          'Partition snapshots retaken after falling behind.',
          fresh.resnapshots,
        ),
        counterLines(
          'croupier_cache_malformed_entries_total',
          'Change-feed values skipped as malformed.',
          fresh.malformedEntries,
        ),
      );
    }
    return `${parts.join('\n')}\n`;
  };

  const behavior: Uws.WebSocketBehavior<SocketData> = {
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
      if (closing || sockets.size + pendingUpgrades >= config.maxConnections) {
        metrics.connectionsRejected++;
        res.writeStatus('503 Service Unavailable').end('too many connections\n');
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
      for (const sub of data.subscriptions.values()) hub.cancel(sub);
      data.subscriptions.clear();
      if (data.overflowed) metrics.backpressureCloses++;
    },
  };

  const app = uws.App();
  // WebSocket upgrades on any path (`/ws` is the documented one); plain GETs fall through to the HTTP routes.
  app.ws<SocketData>('/*', behavior);
  registerHttpRoutes(app, {
    adminToken: config.adminToken,
    readiness,
    metricsText,
    ...(view.userIds ? { userIds: view.userIds } : {}),
    admin: options.admin ?? {},
    authDisabled: config.authDisabled,
  });

  const listenSocket = await new Promise<Uws.us_listen_socket>((resolve, reject) => {
    app.listen(config.host, config.port, (socket) => {
      if (socket === false) {
        reject(
          new CroupierError(
            'CROUPIER_ERR_GATEWAY_LISTEN',
            `the gateway could not listen on ${config.host}:${config.port}: the port is taken or the host is not local (set gateway.port / GATEWAY_PORT)`,
            { host: config.host, port: config.port },
          ),
        );
      } else resolve(socket);
    });
  });
  const port = uws.us_socket_local_port(listenSocket as unknown as Uws.us_socket);
  const url = `http://${config.host}:${port}/`;
  logger.info({ port, url }, 'gateway listening (HTTP, and WebSocket at /ws)');

  return {
    port,
    url,
    metrics,
    async close() {
      if (closing) return;
      closing = true;
      stopListening?.();
      uws.us_listen_socket_close(listenSocket);
      for (const ws of [...sockets]) {
        const data = ws.getUserData();
        if (data.open) ws.end(1001, 'server shutting down');
      }
      sockets.clear();
      logger.info('gateway closed');
    },
  };
}
