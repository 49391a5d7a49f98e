/**
 * Runs the stream topology in a worker thread, restarted when it stops unexpectedly (thread-supervisor.ts):
 * nothing is lost by a restart, the new topology seeks every partition to the offset Redis holds. Keeps the
 * topology's last metrics report, which `health()` hands to the gateway's /readyz and /metrics.
 */
import type { StreamMetricsSnapshot } from '../../streams/metrics.ts';
import type { Config } from '../config/index.ts';
import type { StreamHealthReport } from '../gateway/state-health.ts';
import type { Logger } from '../log/logger.ts';
import type { Endpoints } from './embedded.ts';
import { type SupervisedThread, superviseThread } from './thread-supervisor.ts';

export interface TopologySupervisor extends Omit<SupervisedThread, 'running' | 'restarts'> {
  health(): StreamHealthReport;
}

/** Starts the topology thread (rejects when the first start fails) and keeps it running until `close()`. */
export async function superviseTopology(
  config: Readonly<Config>,
  logger: Logger,
  endpoints: Endpoints,
): Promise<TopologySupervisor> {
  let metrics: StreamMetricsSnapshot | null = null;
  let reportedAt = Date.now();
  const thread = await superviseThread('topology', config, logger, endpoints, {
    onMetrics: (snapshot) => {
      metrics = snapshot;
      reportedAt = Date.now();
    },
  });
  return {
    health: () => ({
      running: thread.running(),
      metrics,
      ageMs: Date.now() - reportedAt,
      restarts: thread.restarts(),
    }),
    crash: () => thread.crash(),
    hang: () => thread.hang(),
    close: () => thread.close(),
  };
}
