/**
 * The carousel gateway: one uWebSockets.js app serving the WebSocket protocol (docs/protocol.md) and the
 * HTTP endpoints on one port. `startGateway` is the one place its parts are wired: the dealer, the
 * subscription hub, the message handler (handlers.ts), the socket behaviour (socket-behavior.ts), the HTTP
 * routes with the `/metrics` page (metrics-text.ts). It checks that the native uWebSockets.js binary is in use,
 * listens (listen-guard.ts: not while descriptors run short), and returns a handle whose `close()` stops listening
 * and closes every connection.
 */

import type * as Uws from 'uWebSockets.js';
import type { Config } from '../config/index.ts';
import type { ArchiveMetricsSnapshot } from '../domain/archive-report.ts';
import type { StateView } from '../domain/decision.ts';
import type { FeedbackKind } from '../domain/protocol-messages.ts';
import type { ShownCheck } from '../domain/state-deltas.ts';
import { CroupierError } from '../errors/index.ts';
import { LogLimiter } from '../log/log-limiter.ts';
import type { Logger } from '../log/logger.ts';
import type { LiveStateFreshness, LiveStateHealth, StateChangeListener } from '../state/live-reader/index.ts';
import { archiveHealthMetricsText, archiveHealthReasons } from './archive-health.ts';
import { ClosedCarousels } from './closed-carousels.ts';
import type { SocketData } from './connection.ts';
import { type DashboardExtras, mountDashboard } from './dashboard-mount.ts';
import { createDealer, type GatewayDecider } from './dealer.ts';
import { descriptorMetricsText, descriptorUse, WebSocketLimit } from './descriptor-limit.ts';
import { type EventLog, eventLogWarnings } from './event-log.ts';
import { FeedbackClaims } from './feedback-claims.ts';
import { guardHttpRoutes } from './guarded-routes.ts';
import { createMessageHandler } from './handlers.ts';
import { type AdminHooks, type Readiness, registerHttpRoutes } from './http-routes.ts';
import { guardListenSocket, SpareDescriptors } from './listen-guard.ts';
import { GatewayMetrics, gaugeLines } from './metrics.ts';
import { renderMetricsText } from './metrics-text.ts';
import { assertNativeUws } from './native-check.ts';
import { type ProbeServer, startProbeServer } from './probe-server.ts';
import { socketBehavior } from './socket-behavior.ts';
import {
  type StreamHealthReport,
  stateHealthMetricsText,
  stateHealthReasons,
  stateHealthWarnings,
} from './state-health.ts';
import { SubscriptionHub } from './subscriptions.ts';

/** The state the gateway reads: a `StateView`, plus what the change-feed cache offers beyond it. */
export type GatewayView = StateView & {
  onChange?: (listener: StateChangeListener) => () => void;
  loadUser?: (userId: string) => Promise<void>;
  wasShown?: (userId: string, requestId: string, itemId: string) => Promise<ShownCheck>;
  claimFeedback?: (userId: string, requestId: string, itemId: string, kind: FeedbackKind) => Promise<boolean>;
  userIds?: (limit: number) => string[];
  freshness?: () => LiveStateFreshness;
  /** Whether every partition's copy is whole (the live reader: not while Redis lost or rebuilds one). */
  health?: () => LiveStateHealth;
};

export interface GatewayOptions {
  /** The `gateway` section of the config. */
  config: Config['gateway'];
  decider: GatewayDecider;
  view: GatewayView;
  eventLog: EventLog;
  logger: Logger;
  /**
   * The gateway's counters, created by whoever wires it so parts started before it (the scorer's batch
   * sizes) can feed them; a fresh set when left out.
   */
  metrics?: GatewayMetrics;
  /** Model reload and experiment config behind the admin token. */
  admin?: AdminHooks;
  /** The cache is considered stale (not ready) past this sync age (default 5 s). */
  maxStalenessMs?: number;
  /** The stream topology's progress, where this process runs it (`croupier start`): reaches /readyz and /metrics. */
  streamHealth?: () => StreamHealthReport;
  /** The archive's progress and counters, where this process runs it (`croupier start`): reach /readyz and /metrics. */
  archiveHealth?: () => ArchiveMetricsSnapshot | undefined;
  /** More lines for `/metrics` from parts this process runs beside the gateway (the CDC source). */
  extraMetrics?: () => string;
  /**
   * More warnings for `/readyz` from parts this process runs beside the gateway (the embedded redis-server's disk
   * nearly full): listed, ready still.
   */
  extraWarnings?: () => string[];
  /** What the /dashboard page reads beyond the gateway (topic tail, archive, experiments). */
  dashboard?: DashboardExtras;
}

export interface GatewayHandle {
  /** The port listened on (the configured one, or the one the OS chose for port 0). */
  readonly port: number;
  /** `http://host:port/` of the page. */
  readonly url: string;
  /** The probe port listened on (`gateway.probePort`: probe-server.ts), or null when there is none. */
  readonly probePort: number | null;
  /** Counters and histograms; feed `metrics.batchSize` from the scorer. */
  readonly metrics: GatewayMetrics;
  close(): Promise<void>;
}

/**
 * Closes the app's listen sockets and every connection it holds (uWebSockets.js's `App.close()`, which its typings
 * leave out; an older build without it leaves them to their idle timeout).
 */
function closeAllConnections(app: Uws.TemplatedApp): void {
  (app as unknown as { close?: () => void }).close?.();
}

/** Refuses a config with auth on and no secret; warns when auth is off. */
function checkAuthConfig(config: Config['gateway'], logger: Logger): void {
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
}

/** Listens on `host` and `port` at once (uWebSockets.js answers synchronously): the listen socket, or false. */
function listenOn(app: Uws.TemplatedApp, host: string, port: number): Uws.us_listen_socket | false {
  let socket: Uws.us_listen_socket | false = false;
  app.listen(host, port, (s) => {
    socket = s;
  });
  return socket;
}

/**
 * Listens on the configured host and port; the listen socket. For port 0 it listens on the port the OS chose once
 * more: uWebSockets.js sets SO_REUSEADDR only on a port it is given, and without it the connections the gateway closed
 * (TIME_WAIT, a minute) keep it from listening on its port again after listen-guard.ts closed it.
 */
function listen(uws: typeof Uws, app: Uws.TemplatedApp, config: Config['gateway']): Uws.us_listen_socket {
  let socket = listenOn(app, config.host, config.port);
  for (let tries = 0; config.port === 0 && socket !== false && tries < 3; tries++) {
    const port = uws.us_socket_local_port(socket as unknown as Uws.us_socket);
    uws.us_listen_socket_close(socket);
    const again = listenOn(app, config.host, port);
    if (again !== false) return again;
    // Taken meanwhile by another process: another port.
    socket = listenOn(app, config.host, 0);
  }
  if (socket === false) {
    throw new CroupierError(
      'CROUPIER_ERR_GATEWAY_LISTEN',
      `the gateway could not listen on ${config.host}:${config.port}: the port is taken or the host is not local (set gateway.port / GATEWAY_PORT)`,
      { host: config.host, port: config.port },
    );
  }
  return socket;
}

export async function startGateway(options: GatewayOptions): Promise<GatewayHandle> {
  const { config, decider, view, eventLog } = options;
  const logger = options.logger.child({ component: 'gateway' });
  const uws = (await import('uWebSockets.js')).default as typeof Uws;
  assertNativeUws(uws);
  checkAuthConfig(config, logger);

  const metrics = options.metrics ?? new GatewayMetrics();
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
  const warnings = new LogLimiter();
  const claims = view.claimFeedback
    ? new FeedbackClaims({ claim: view.claimFeedback, logger, warnings })
    : undefined;
  const closedCarousels = new ClosedCarousels();
  const onMessage = createMessageHandler({
    config,
    closedCarousels,
    dealer,
    eventLog,
    hub,
    metrics,
    logger,
    warnings,
    ...(view.loadUser ? { loadUser: view.loadUser } : {}),
    ...(view.wasShown ? { wasShown: view.wasShown } : {}),
    ...(claims ? { claims } : {}),
  });
  const sockets = new Set<Uws.WebSocket<SocketData>>();
  let closing = false;
  // The spares are held before the WebSocket limit is counted, so that WebSockets at their limit leave them free.
  const spares = new SpareDescriptors(descriptorUse()?.limit ?? null);
  const descriptors = descriptorUse();
  const webSocketLimit = new WebSocketLimit(config.maxConnections, descriptors);
  const warnOfLimit = (limit: number | null | undefined) => {
    const maxConnections = webSocketLimit.value;
    if (maxConnections >= config.maxConnections) return;
    logger.warn(
      { maxConnections, limit },
      `the open-file limit (${limit}, ulimit -n) leaves room for ${maxConnections} WebSockets, fewer than ` +
        `gateway.maxConnections (${config.maxConnections}): further upgrades get 503; raise the limit to take more`,
    );
  };
  warnOfLimit(descriptors?.limit);
  /** The open-file limit changed (listen-guard.ts reads it): the WebSocket limit is counted again under it. */
  const onLimitChange = (use: { limit: number; open: number }) => {
    const before = webSocketLimit.follow(use.limit, use.open - sockets.size);
    if (before === null) return;
    logger.info(
      { limit: use.limit, previousLimit: before.limit, maxConnections: webSocketLimit.value },
      `the open-file limit changed from ${before.limit ?? 'unlimited'} to ${use.limit}: the gateway takes ` +
        `${webSocketLimit.value} WebSockets (was ${before.value})`,
    );
    warnOfLimit(use.limit);
  };

  const maxStalenessMs = options.maxStalenessMs ?? 5000;
  const readiness = (): Readiness => {
    const reasons: string[] = [];
    if (closing) reasons.push('shutting down');
    const fresh = view.freshness?.();
    if (fresh !== undefined && fresh.lastSyncAgeMs > maxStalenessMs) {
      reasons.push(`state cache last synced ${fresh.lastSyncAgeMs} ms ago`);
    }
    reasons.push(...stateHealthReasons({ health: view.health, stream: options.streamHealth }));
    reasons.push(...guard.reasons());
    return {
      ready: reasons.length === 0,
      reasons,
      warnings: [
        ...eventLogWarnings(eventLog.stats()),
        ...archiveHealthReasons(options.archiveHealth?.()),
        ...stateHealthWarnings(options.streamHealth?.()),
        ...(options.extraWarnings?.() ?? []),
      ],
    };
  };
  const metricsText = (): string =>
    renderMetricsText({
      metrics,
      events: eventLog.stats(),
      connections: sockets.size,
      subscriptions: hub.size,
      freshness: view.freshness?.(),
    }) +
    (claims === undefined
      ? ''
      : `${gaugeLines(
          'croupier_feedback_claims_kept',
          'Feedback claims Redis refused or did not answer, kept to be written once it takes writes.',
          claims.pending,
        )}\n`) +
    stateHealthMetricsText(view.freshness?.(), options.streamHealth?.()) +
    archiveHealthMetricsText(options.archiveHealth?.()) +
    descriptorMetricsText(webSocketLimit.value) +
    guard.metricsText() +
    (options.extraMetrics?.() ?? '');

  // Every HTTP route (the gateway's and the dashboard's) keeps an exception on its request: 500, logged.
  const app = guardHttpRoutes(uws.App(), (error, route) => {
    metrics.handlerErrors++;
    logger.error({ err: error, route }, 'an HTTP route handler failed');
  });
  // WebSocket upgrades on any path (`/ws` is the documented one); plain GETs fall through to the HTTP routes.
  app.ws<SocketData>(
    '/*',
    socketBehavior({
      uws,
      config,
      metrics,
      hub,
      onMessage,
      sockets,
      isClosing: () => closing,
      maxConnections: () => webSocketLimit.value,
      closedCarousels,
    }),
  );
  const dashboard = mountDashboard(app, {
    config,
    metrics,
    eventLog,
    view,
    connections: () => sockets.size,
    subscriptions: () => hub.size,
    ...(options.streamHealth ? { streamHealth: options.streamHealth } : {}),
    ...(options.dashboard ? { extras: options.dashboard } : {}),
    logger,
  });
  registerHttpRoutes(app, {
    adminToken: config.adminToken,
    readiness,
    metricsText,
    ...(view.userIds ? { userIds: view.userIds } : {}),
    admin: options.admin ?? {},
    authDisabled: config.authDisabled,
  });

  let listenSocket: Uws.us_listen_socket;
  try {
    listenSocket = listen(uws, app, config);
  } catch (error) {
    spares.release();
    throw error;
  }
  const port = uws.us_socket_local_port(listenSocket as unknown as Uws.us_socket);
  // Closes the listen socket while descriptors run short and listens again once they are free.
  const guard = guardListenSocket({
    uws,
    app,
    host: config.host,
    port,
    listenSocket,
    spares,
    limit: descriptors?.limit ?? null,
    onLimitChange,
    logger,
  });
  const url = `http://${config.host}:${port}/`;
  logger.info({ port, url }, 'gateway listening (HTTP, and WebSocket at /ws)');
  let probes: ProbeServer | null = null;
  if (config.probePort !== undefined) {
    try {
      probes = await startProbeServer({
        host: config.host,
        port: config.probePort,
        readiness,
        metricsText,
        logger,
      });
    } catch (error) {
      guard.close();
      throw error;
    }
  }

  return {
    port,
    url,
    probePort: probes?.port ?? null,
    metrics,
    async close() {
      if (closing) return;
      closing = true;
      stopListening?.();
      claims?.close();
      await dashboard.close();
      guard.close();
      await probes?.close();
      for (const ws of [...sockets]) {
        const data = ws.getUserData();
        if (data.open) ws.end(1001, 'server shutting down');
      }
      sockets.clear();
      // Every other connection too (their close frames sent): a keep-alive client that sends a request now and then,
      // a load balancer's health checks, would otherwise keep the process running after it was told to stop.
      closeAllConnections(app);
      logger.info('gateway closed');
    },
  };
}
