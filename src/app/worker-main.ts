/**
 * The body of a croupier worker thread: runs one part of the loop (the embedded broker, or the stream
 * topology) on its own event loop, so the gateway's thread does only gateway work. Talks to its parent with
 * these messages: `ready` (with the broker's address), `error` (start-up failed), `closed`, and every second
 * `metrics` from the topology, `archive-metrics` from the archive, a `beat` from the broker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { StreamMetricsSnapshot } from '../../streams/metrics.ts';
import { startArchive } from '../archive/index.ts';
import type { ArchiveMetricsSnapshot } from '../archive/metrics.ts';
import { startBroker } from '../broker/index.ts';
import { type Config, parseConfig } from '../config/index.ts';
import { createLogger } from '../log/logger.ts';
import { ownThreadId } from '../log/thread-cpu.ts';
import { startMemoryReports } from '../log/thread-memory.ts';
import { brokerOptions, type Endpoints } from './embedded.ts';
import { startTopologyOn } from './topology-on-endpoints.ts';
import {
  WORKER_REPORT_MS,
  type WorkerInbound,
  type WorkerOutbound,
  type WorkerRole,
} from './worker-protocol.ts';

interface WorkerInput {
  role: WorkerRole;
  config: Config;
  endpoints?: Endpoints;
}

interface RunningRole {
  address?: string;
  close(): Promise<void>;
  metrics?: () => StreamMetricsSnapshot;
  archiveMetrics?: () => ArchiveMetricsSnapshot;
}

async function startRole(input: WorkerInput): Promise<RunningRole> {
  const config = parseConfig(input.config);
  const logger = createLogger({
    level: config.log.level,
    pretty: config.log.pretty,
    name: `croupier-${input.role}`,
  });
  if (input.role === 'broker') {
    const broker = await startBroker(brokerOptions(config, logger));
    return { address: broker.address, close: () => broker.close() };
  }
  if (input.role === 'archive') {
    const archive = await startArchive(config, input.endpoints!, logger);
    return { close: () => archive.close(), archiveMetrics: () => archive.metrics() };
  }
  return startTopologyOn(config, input.endpoints!, logger);
}

const port = parentPort!;
const send = (message: WorkerOutbound) => port.postMessage(message);
try {
  const running = await startRole(workerData as WorkerInput);
  const { metrics, archiveMetrics } = running;
  // Every thread reports on a timer, so the main thread can tell one stuck in a loop (worker-thread.ts's watchdog).
  const report: () => WorkerOutbound =
    metrics !== undefined
      ? () => ({ type: 'metrics', snapshot: metrics() })
      : archiveMetrics !== undefined
        ? () => ({ type: 'archive-metrics', snapshot: archiveMetrics() })
        : () => ({ type: 'beat' });
  const reporter = setInterval(() => send(report()), WORKER_REPORT_MS);
  port.on('message', async (message: WorkerInbound) => {
    if (message.type === 'hang') for (;;);
    if (message.type !== 'close') return;
    clearInterval(reporter);
    await running.close();
    send({ type: 'closed' });
    port.close();
  });
  send({ type: 'ready', address: running.address, tid: ownThreadId(), memory: startMemoryReports() });
  if (metrics !== undefined) send({ type: 'metrics', snapshot: metrics() });
} catch (error) {
  const e = error as Error & { code?: string };
  send({ type: 'error', message: e.message, code: e.code });
  port.close();
}
