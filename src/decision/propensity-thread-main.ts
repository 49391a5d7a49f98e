/** Body of the propensity thread: integrates each batch it is sent and transfers the propensities back. */
import { parentPort } from 'node:worker_threads';
import { ownThreadId } from '../log/thread-cpu.ts';
import { startMemoryReports } from '../log/thread-memory.ts';
import {
  BatchIntegrator,
  type PropensityBatchReply,
  type PropensityBatchRequest,
  STOP,
} from './propensity-batch.ts';

const integrator = new BatchIntegrator();
// First message: which OS thread this is and where it writes its memory, so /metrics can report both.
parentPort?.postMessage({ tid: ownThreadId(), memory: startMemoryReports() });
parentPort?.on('message', (request: PropensityBatchRequest | typeof STOP) => {
  if (request === STOP) {
    // Every batch before it is answered; with the port closed nothing keeps the thread alive, and it ends.
    parentPort?.close();
    return;
  }
  const out = integrator.run(request);
  const reply: PropensityBatchReply = { id: request.id, out, data: request.data };
  parentPort?.postMessage(reply, [out.buffer as ArrayBuffer, request.data.buffer as ArrayBuffer]);
});
