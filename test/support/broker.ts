/**
 * Test fixture: croupier's embedded Kafka-protocol broker, in-process on a free loopback port.
 *
 *   const kafka = await startTestBroker();
 *   new Kafka({ brokers: kafka.brokers, ... });
 *   await kafka.close();
 */
import { type BrokerHandle, type StartBrokerOptions, startBroker } from '../../src/broker/index.ts';

export interface TestBroker {
  /** Bootstrap list for a client: `['127.0.0.1:<port>']`. */
  brokers: string[];
  handle: BrokerHandle;
  close(): Promise<void>;
}

export async function startTestBroker(options: StartBrokerOptions = {}): Promise<TestBroker> {
  const handle = await startBroker({
    host: '127.0.0.1',
    port: 0,
    // Tests use short sessions to exercise expiry without waiting Kafka's 6 s minimum.
    groupMinSessionTimeoutMs: 1000,
    ...options,
  });
  return {
    brokers: [handle.address],
    handle,
    close: () => handle.close(),
  };
}
