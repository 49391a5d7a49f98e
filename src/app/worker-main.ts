/**
 * The body of a croupier worker thread: runs one part of the loop (the embedded broker, or the stream
 * topology) on its own event loop, so the gateway's thread does only gateway work. Talks to its parent with
 * three messages: `ready` (with the broker's address), `error` (start-up failed), `closed`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startArchive } from '../archive/index.ts';
import { startBroker } from '../broker/index.ts';
import { type Config, parseConfig } from '../config/index.ts';
import { createLogger } from '../log/logger.ts';
import { brokerOptions, type Endpoints } from './embedded.ts';
import { startTopologyOn } from './topology.ts';
import type { WorkerInbound, WorkerOutbound, WorkerRole } from './worker-protocol.ts';

interface WorkerInput {
  role: WorkerRole;
  config: Config;
  endpoints?: Endpoints;
}

async function startRole(input: WorkerInput): Promise<{ address?: string; close(): Promise<void> }> {
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
    return { close: () => archive.close() };
  }
  return startTopologyOn(config, input.endpoints!, logger);
}

const port = parentPort!;
const send = (message: WorkerOutbound) => port.postMessage(message);
try {
  const running = await startRole(workerData as WorkerInput);
  port.on('message', async (message: WorkerInbound) => {
    if (message.type !== 'close') return;
    await running.close();
    send({ type: 'closed' });
    port.close();
  });
  send({ type: 'ready', address: running.address });
} catch (error) {
  const e = error as Error & { code?: string };
  send({ type: 'error', message: e.message, code: e.code });
  port.close();
}
