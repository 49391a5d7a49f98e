/**
 * Puts the operator's dashboard (src/dashboard) on the gateway's app: hands it the gateway's counters, the live
 * reader and the topology's reports as the plain sources it reads, plus what the caller adds (the topic tail,
 * the archive's counters, the experiments config, the jobs report), and guards it with the admin token when auth
 * is on.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import type { Config } from '../config/index.ts';
import { createDashboardCollector } from '../dashboard/collector.ts';
import { registerDashboardRoutes } from '../dashboard/dashboard-routes.ts';
import type { DashboardSources, ServingSample } from '../dashboard/sources.ts';
import type { StateView } from '../domain/decision.ts';
import type { Logger } from '../log/logger.ts';
import type { LiveStateFreshness } from '../state/live-reader/index.ts';
import { isAdminAuthorized } from './auth.ts';
import type { EventLog } from './event-log.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { StreamHealthReport } from './state-health.ts';

/** What the dashboard reads beyond the gateway itself; each part left out makes its panel say so. */
export type DashboardExtras = Pick<DashboardSources, 'tail' | 'archive' | 'experiments' | 'jobs'>;

export interface DashboardMountOptions {
  config: Config['gateway'];
  metrics: GatewayMetrics;
  eventLog: EventLog;
  view: Pick<StateView, 'items' | 'arm'> & { freshness?: () => LiveStateFreshness };
  connections: () => number;
  subscriptions: () => number;
  streamHealth?: () => StreamHealthReport;
  extras?: DashboardExtras;
  logger: Logger;
}

function servingSample(options: DashboardMountOptions): ServingSample {
  const m = options.metrics;
  const events = options.eventLog.stats();
  return {
    decisions: m.decisions,
    pushes: m.pushes,
    errors: m.decisionErrors + m.handlerErrors,
    badMessages: m.badMessages,
    undelivered: m.undelivered,
    rateLimited: m.rateLimited,
    connectionsRejected: m.connectionsRejected,
    backpressureCloses: m.backpressureCloses,
    eventsSent: events.sent,
    eventsShed: events.shed,
    eventsQueued: events.queued,
    eventLogConnected: events.connected,
    connections: options.connections(),
    subscriptions: options.subscriptions(),
    modelVersion: m.modelVersion,
    latency: m.decisionLatency.snapshot(),
    batchSize: m.batchSize.snapshot(),
  };
}

/** Registers /dashboard and its stream; `close()` ends the open streams and stops the collector. */
export function mountDashboard(
  app: TemplatedApp,
  options: DashboardMountOptions,
): { close(): Promise<void> } {
  const { view, extras } = options;
  const collector = createDashboardCollector(
    {
      serving: () => servingSample(options),
      view: { items: () => view.items(), arm: (itemId, segment) => view.arm(itemId, segment) },
      freshness: () => view.freshness?.(),
      ...(view.freshness ? { clickFreshness: () => options.metrics.clickFreshness.snapshot() } : {}),
      topology: () => options.streamHealth?.(),
      ...extras,
    },
    { logger: options.logger.child({ component: 'dashboard' }) },
  );
  const routes = registerDashboardRoutes(app, collector, {
    authRequired: !options.config.authDisabled,
    isAdminToken: (token) => isAdminAuthorized(options.config.adminToken, `Bearer ${token}`),
  });
  return {
    async close() {
      routes.close();
      await collector.close();
    },
  };
}
