/** The TCP listener: one Connection per socket; close() stops listening and drops every connection. */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Broker } from '../broker.ts';
import { Connection, type ConnectionOptions } from './connection.ts';

export class BrokerServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();

  constructor(broker: Broker, logger: Logger, options: ConnectionOptions) {
    this.server = createServer((socket: Socket) => {
      const connection = new Connection(socket, broker, logger, options);
      this.connections.add(connection);
      connection.onClosed = () => this.connections.delete(connection);
    });
    this.server.on('error', (error) => logger.error({ err: error }, 'listener error'));
  }

  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        resolve({ host, port: typeof address === 'object' && address ? address.port : port });
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const c of [...this.connections]) c.close();
    });
  }
}
